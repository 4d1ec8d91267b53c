//===- NpyTest.cpp - Unit tests of the .npy reader and writer -------------===//

#include "kestrel/Runtime/Npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

using namespace kestrel::rt;

namespace {

std::string tempPath(const char *name) {
  return testing::TempDir() + "/kestrel_npy_" + name + ".npy";
}

TEST(Npy, RoundTripsShapesAndBytes) {
  for (const std::vector<int64_t> &shape :
       {std::vector<int64_t>{}, {5}, {2, 3}, {1, 2, 3, 4}}) {
    Tensor t{"f32", shape};
    std::vector<float> values(t.numElements());
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = 0.5f * static_cast<float>(i) - 1.0f;
    std::string path = tempPath("roundtrip");
    std::string error;
    ASSERT_TRUE(writeNpy(path, t, values.data(), error)) << error;

    // The header is a multiple of 64 bytes, as NumPy requires.
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ((bytes.size() - t.bytes()) % 64, 0u);

    std::vector<char> data;
    ASSERT_TRUE(readNpy(path, t, data, error)) << error;
    ASSERT_EQ(data.size(), t.bytes());
    EXPECT_EQ(std::memcmp(data.data(), values.data(), data.size()), 0);
    std::remove(path.c_str());
  }
}

TEST(Npy, WritesNumPyShapeTuples) {
  std::string error;
  float one = 1;
  std::string path = tempPath("tuple");
  ASSERT_TRUE(writeNpy(path, Tensor{"f32", {1}}, &one, error)) << error;
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(bytes.find("'shape': (1,)"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Npy, RejectsMismatchedShapeTypeAndTruncation) {
  std::vector<float> values(6, 1.0f);
  std::string path = tempPath("mismatch"), error;
  ASSERT_TRUE(writeNpy(path, Tensor{"f32", {2, 3}}, values.data(), error));
  std::vector<char> data;
  EXPECT_FALSE(readNpy(path, Tensor{"f32", {3, 2}}, data, error));
  EXPECT_NE(error.find("shape (3, 2)"), std::string::npos) << error;
  EXPECT_FALSE(readNpy(path, Tensor{"i32", {2, 3}}, data, error));

  // Cut the data short.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  in.close();
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 4);
  EXPECT_FALSE(readNpy(path, Tensor{"f32", {2, 3}}, data, error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  // Extra bytes after the data: not the array the manifest describes.
  std::ofstream(path, std::ios::binary) << bytes << "junk";
  EXPECT_FALSE(readNpy(path, Tensor{"f32", {2, 3}}, data, error));
  EXPECT_NE(error.find("trailing data"), std::string::npos) << error;
  // A shape that only starts like the expected one.
  EXPECT_FALSE(readNpy(path, Tensor{"f32", {2}}, data, error));

  EXPECT_FALSE(readNpy(tempPath("missing"), Tensor{"f32", {1}}, data, error));
  std::remove(path.c_str());
}

} // namespace
