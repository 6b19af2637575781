# SPDX-License-Identifier: GPL-3.0-or-later
"""Images: lossless coding with a pixel model trained here and the project's
range coder (codec.py, container.py, pixel_model.py; C++ in lib/pixel_model.cc),
the classic anchors it is measured against (anchors.py), the photographs it
is trained and tested on (data.py) and Pillow I/O (imageio.py).
docs/images.md has the design and the numbers."""
