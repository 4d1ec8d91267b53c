//===- ElfCheck.h - Checking a shared library before dlopen -----*- C++ -*-===//
//
// dlopen maps a library's segments straight from the file: a truncated file
// (an interrupted copy, a full disk) maps pages past its end, and the first
// touch of one kills the process with SIGBUS, Python interpreters included.
// checkSharedObject reads the ELF headers with plain reads and checks that
// every header table and every loaded segment lies inside the file, so the
// runtimes report such files instead of crashing on them. Plain C++17.
//
//===----------------------------------------------------------------------===//

#ifndef KESTREL_RUNTIME_ELFCHECK_H
#define KESTREL_RUNTIME_ELFCHECK_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace kestrel::rt {

/// Reads `n` bytes at `offset` into `dst`; false past the end or on error.
using ReadAt = std::function<bool(uint64_t offset, void *dst, size_t n)>;

/// Checks the ELF image of `fileSize` bytes that `read` gives access to: a
/// 64-bit little-endian ET_DYN object whose program header table, section
/// header table and PT_LOAD / PT_DYNAMIC file ranges lie inside the file.
/// Returns "" or the reason it is not loadable.
std::string checkElfImage(uint64_t fileSize, const ReadAt &read);

/// checkElfImage on the file at `path`; on failure sets `error` to
/// "PATH: truncated or not a shared object (REASON)" and returns false.
bool checkSharedObject(const std::string &path, std::string &error);

} // namespace kestrel::rt

#endif // KESTREL_RUNTIME_ELFCHECK_H
