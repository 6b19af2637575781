// SPDX-License-Identifier: GPL-3.0-or-later
/* -*- c++ -*- */
/* Reader and writer of the known-answer vector files in tests/vectors/
 * (range_coder.txt, engine_tiny.txt): plain text, one case per section,
 *
 *     # comment
 *     [kind name]
 *     key value value ...
 *
 * A key may repeat (each line is kept); byte strings are lowercase hex. */
#ifndef INCLUDED_LMSSCC_QA_VECTOR_FILE_H
#define INCLUDED_LMSSCC_QA_VECTOR_FILE_H

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace qa {

struct vector_case {
    std::string kind, name;
    std::map<std::string, std::vector<std::vector<std::string>>> lines;

    //! The only line of `key` (error if absent or repeated).
    const std::vector<std::string>& one(const std::string& key) const
    {
        const auto it = lines.find(key);
        if (it == lines.end() || it->second.size() != 1)
            throw std::runtime_error("vector case " + name + ": expected one '" + key + "' line");
        return it->second.front();
    }
    const std::string& text(const std::string& key) const
    {
        const auto& v = one(key);
        if (v.size() != 1)
            throw std::runtime_error("vector case " + name + ": '" + key + "' takes one value");
        return v.front();
    }
    unsigned long long number(const std::string& key) const { return std::stoull(text(key)); }
};

inline std::vector<vector_case> read_vector_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read vector file " + path);
    std::vector<vector_case> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        if (line[0] == '[') {
            std::istringstream head(line.substr(1, line.find(']') - 1));
            cases.emplace_back();
            head >> cases.back().kind >> cases.back().name;
            continue;
        }
        if (cases.empty())
            throw std::runtime_error(path + ": a value line before the first [section]");
        std::istringstream words(line);
        std::string key, w;
        words >> key;
        std::vector<std::string> values;
        while (words >> w)
            values.push_back(w);
        cases.back().lines[key].push_back(values);
    }
    return cases;
}

template <class T>
std::vector<T> parse_numbers(const std::vector<std::string>& words)
{
    std::vector<T> out;
    for (const auto& w : words)
        out.push_back(T(std::stoll(w)));
    return out;
}

inline std::string to_hex(const std::vector<uint8_t>& bytes)
{
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (uint8_t b : bytes) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

inline std::string to_hex64(uint64_t v)
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
    return buf;
}

//! Hex of "bytes" lines, joined (an absent or valueless line: no bytes).
inline std::string joined_hex(const vector_case& c, const std::string& key)
{
    std::string s;
    const auto it = c.lines.find(key);
    if (it != c.lines.end())
        for (const auto& line : it->second)
            for (const auto& w : line)
                s += w;
    return s;
}

} // namespace qa

#endif
