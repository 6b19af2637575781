// SPDX-License-Identifier: GPL-3.0-or-later
/* gr-lmsscc: symbol visibility for the kernel library. */
#ifndef INCLUDED_LMSSCC_API_H
#define INCLUDED_LMSSCC_API_H

#if defined(__GNUC__)
#define LMSSCC_API __attribute__((visibility("default")))
#else
#define LMSSCC_API
#endif

#endif
