// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Minimal check helpers shared by the lib/qa_*.cc ctest programs: CHECK counts
 * failures and keeps going; qa_exit_code() prints the summary. */
#ifndef INCLUDED_LMSSCC_QA_CHECK_H
#define INCLUDED_LMSSCC_QA_CHECK_H

#include <cstdio>
#include <stdexcept>

static int g_failures = 0;
#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++g_failures;                                                                   \
        }                                                                                   \
    } while (0)

//! True when f() throws std::invalid_argument (the kernels' bad-input error).
template <class F>
static bool throws_invalid(F&& f)
{
    try {
        f();
    } catch (const std::invalid_argument&) {
        return true;
    }
    return false;
}

static int qa_exit_code(const char* name)
{
    if (g_failures) {
        std::fprintf(stderr, "%s: %d failure(s)\n", name, g_failures);
        return 1;
    }
    std::printf("%s: all tests passed\n", name);
    return 0;
}

#endif
