//===- ElfCheckTest.cpp - Unit tests of the pre-dlopen ELF checks ---------===//
//
// A minimal ELF64 shared object image (header, one PT_LOAD segment, one
// section) is accepted whole and rejected when cut short or damaged.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Runtime/ElfCheck.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <vector>

using namespace kestrel::rt;

namespace {

/// Header at 0, program headers at 64, section headers at 256, a 512-byte
/// segment at 1024.
std::vector<char> image() {
  std::vector<char> bytes(1536, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_DYN;
  eh.e_phoff = 64;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  eh.e_shoff = 256;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 2;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = 1024;
  ph.p_filesz = ph.p_memsz = 512;
  Elf64_Shdr sh[2]{};
  sh[1].sh_type = SHT_PROGBITS;
  sh[1].sh_offset = 1024;
  sh[1].sh_size = 512;
  std::memcpy(bytes.data(), &eh, sizeof(eh));
  std::memcpy(bytes.data() + 64, &ph, sizeof(ph));
  std::memcpy(bytes.data() + 256, sh, sizeof(sh));
  return bytes;
}

std::string check(const std::vector<char> &bytes) {
  return checkElfImage(bytes.size(), [&](uint64_t off, void *dst, size_t n) {
    if (off > bytes.size() || n > bytes.size() - off)
      return false;
    std::memcpy(dst, bytes.data() + off, n);
    return true;
  });
}

TEST(ElfCheck, AcceptsAWholeImage) { EXPECT_EQ(check(image()), ""); }

TEST(ElfCheck, RejectsTruncationAndDamage) {
  std::vector<char> bytes = image();
  bytes.resize(1400); // inside the segment
  EXPECT_NE(check(bytes).find("loadable segment at bytes [1024, +512)"),
            std::string::npos)
      << check(bytes);
  bytes.resize(200); // inside the section header table
  EXPECT_NE(check(bytes).find("loadable segment"), std::string::npos);
  bytes.resize(30);
  EXPECT_NE(check(bytes).find("shorter than an ELF header"), std::string::npos);

  bytes = image();
  bytes[0] = 'X';
  EXPECT_EQ(check(bytes), "no ELF magic");
  bytes = image();
  bytes[16] = ET_EXEC; // e_type, little-endian
  EXPECT_NE(check(bytes).find("not a shared object"), std::string::npos);
  bytes = image();
  uint64_t hugeOffset = ~uint64_t(0) - 8; // offset + size wraps around
  std::memcpy(bytes.data() + 64 + offsetof(Elf64_Phdr, p_offset), &hugeOffset,
              8);
  EXPECT_NE(check(bytes).find("loadable segment"), std::string::npos);
  bytes = image();
  uint16_t phnum = 60000;
  std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_phnum), &phnum, 2);
  EXPECT_NE(check(bytes).find("program header table"), std::string::npos);
}

TEST(ElfCheck, NamesTheFile) {
  std::string path = testing::TempDir() + "/kestrel_elf_cut.so", error;
  std::vector<char> bytes = image();
  std::ofstream(path, std::ios::binary).write(bytes.data(), 1100);
  EXPECT_FALSE(checkSharedObject(path, error));
  EXPECT_EQ(error.rfind(path + ": truncated or not a shared object (", 0), 0u)
      << error;
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
  EXPECT_TRUE(checkSharedObject(path, error)) << error;
  std::remove(path.c_str());
  EXPECT_FALSE(checkSharedObject(path, error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);
}

} // namespace
