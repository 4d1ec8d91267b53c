//===- ElfCheck.cpp - ELF header checks before dlopen ---------------------===//
//
// Reads the ELF file header, the program headers and the section headers of
// a library with bounded reads and checks that each range they declare lies
// inside the file (ElfCheck.h says why).
//
//===----------------------------------------------------------------------===//

#include "kestrel/Runtime/ElfCheck.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kestrel::rt {

namespace {

/// Whether [offset, offset + size) lies inside a file of `fileSize` bytes.
bool inside(uint64_t offset, uint64_t size, uint64_t fileSize) {
  return offset <= fileSize && size <= fileSize - offset;
}

std::string range(const char *what, uint64_t offset, uint64_t size,
                  uint64_t fileSize) {
  return std::string(what) + " at bytes [" + std::to_string(offset) + ", +" +
         std::to_string(size) + ") beyond the file's " +
         std::to_string(fileSize) + " bytes";
}

std::string checkProgramHeaders(const Elf64_Ehdr &eh, uint64_t fileSize,
                                const ReadAt &read) {
  if (eh.e_phnum == 0)
    return "no program headers";
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    return "program header entries of " + std::to_string(eh.e_phentsize) +
           " bytes";
  uint64_t tableBytes = uint64_t(eh.e_phnum) * sizeof(Elf64_Phdr);
  if (!inside(eh.e_phoff, tableBytes, fileSize))
    return range("program header table", eh.e_phoff, tableBytes, fileSize);
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!read(eh.e_phoff + uint64_t(i) * sizeof(ph), &ph, sizeof(ph)))
      return "unreadable program header " + std::to_string(i);
    if (ph.p_type != PT_LOAD && ph.p_type != PT_DYNAMIC)
      continue;
    if (!inside(ph.p_offset, ph.p_filesz, fileSize))
      return range(ph.p_type == PT_LOAD ? "loadable segment"
                                        : "dynamic segment",
                   ph.p_offset, ph.p_filesz, fileSize);
    if (ph.p_type == PT_LOAD && ph.p_filesz > ph.p_memsz)
      return "loadable segment " + std::to_string(i) +
             " holds more file bytes than memory bytes";
  }
  return "";
}

std::string checkSectionHeaders(const Elf64_Ehdr &eh, uint64_t fileSize,
                                const ReadAt &read) {
  if (eh.e_shoff == 0)
    return ""; // stripped of section headers: dlopen does not need them
  if (eh.e_shentsize != sizeof(Elf64_Shdr))
    return "section header entries of " + std::to_string(eh.e_shentsize) +
           " bytes";
  // With 0xff00 or more sections, e_shnum is 0 and section 0's sh_size
  // holds the count; only the first entry is checked then.
  uint64_t count = eh.e_shnum ? eh.e_shnum : 1;
  uint64_t tableBytes = count * sizeof(Elf64_Shdr);
  if (!inside(eh.e_shoff, tableBytes, fileSize))
    return range("section header table", eh.e_shoff, tableBytes, fileSize);
  for (uint64_t i = 0; i < count; ++i) {
    Elf64_Shdr sh;
    if (!read(eh.e_shoff + i * sizeof(sh), &sh, sizeof(sh)))
      return "unreadable section header " + std::to_string(i);
    if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL)
      continue;
    if (!inside(sh.sh_offset, sh.sh_size, fileSize))
      return range("section", sh.sh_offset, sh.sh_size, fileSize);
  }
  return "";
}

} // namespace

std::string checkElfImage(uint64_t fileSize, const ReadAt &read) {
  Elf64_Ehdr eh;
  if (fileSize < sizeof(eh))
    return "a file of " + std::to_string(fileSize) +
           " bytes, shorter than an ELF header";
  if (!read(0, &eh, sizeof(eh)))
    return "unreadable ELF header";
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return "no ELF magic";
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return "not a 64-bit little-endian ELF file";
  if (eh.e_type != ET_DYN)
    return "ELF type " + std::to_string(eh.e_type) + ", not a shared object";
  std::string why = checkProgramHeaders(eh, fileSize, read);
  if (why.empty())
    why = checkSectionHeaders(eh, fileSize, read);
  return why;
}

bool checkSharedObject(const std::string &path, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  std::string why;
  if (::fstat(fd, &st) != 0)
    why = std::string("cannot stat: ") + std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    why = "not a regular file";
  else
    why = checkElfImage(static_cast<uint64_t>(st.st_size),
                        [fd](uint64_t offset, void *dst, size_t n) {
                          auto *out = static_cast<char *>(dst);
                          while (n > 0) {
                            ssize_t got =
                                ::pread(fd, out, n, static_cast<off_t>(offset));
                            if (got < 0 && errno == EINTR)
                              continue;
                            if (got <= 0)
                              return false;
                            out += got, offset += static_cast<uint64_t>(got);
                            n -= static_cast<size_t>(got);
                          }
                          return true;
                        });
  ::close(fd);
  if (why.empty())
    return true;
  error = path + ": truncated or not a shared object (" + why + ")";
  return false;
}

} // namespace kestrel::rt
