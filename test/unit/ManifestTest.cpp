//===- ManifestTest.cpp - Unit tests of the manifest parser ---------------===//
//
// The runtimes trust the manifest to size buffers and launch kernels, so
// every malformed line must be rejected with its line number.
//
//===----------------------------------------------------------------------===//

#include "kestrel/Runtime/Manifest.h"

#include <gtest/gtest.h>

using namespace kestrel::rt;

namespace {

constexpr const char *kCuda = R"(kestrel-manifest 1 cuda
target sm_90a
ptx model.ptx
function attn 2 1
in bf16 1x8x16x64
in f32 scalar
out f16 4
temp 3 4096
launch k0 grid 8 4 2 block 32 8 1 smem 1024 params b0 b3 i64:-5 i32:7 f32:0x3f800000 f64:0xfff0000000000000
copy 3 2 8
end
)";

TEST(Manifest, ParsesEveryCudaEntry) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest(kCuda, m, error)) << error;
  EXPECT_EQ(m.kind, "cuda");
  EXPECT_EQ(m.target, "sm_90a");
  EXPECT_EQ(m.ptx, "model.ptx");
  ASSERT_EQ(m.functions.size(), 1u);
  const Function *f = m.find("attn");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(m.find("other"), nullptr);

  ASSERT_EQ(f->inputs.size(), 2u);
  EXPECT_EQ(f->inputs[0].dtype, "bf16");
  EXPECT_EQ(f->inputs[0].shape, (std::vector<int64_t>{1, 8, 16, 64}));
  EXPECT_EQ(f->inputs[0].bytes(), 1u * 8 * 16 * 64 * 2);
  EXPECT_TRUE(f->inputs[1].shape.empty());
  EXPECT_EQ(f->inputs[1].bytes(), 4u);
  EXPECT_EQ(f->outputs[0].bytes(), 8u);

  ASSERT_EQ(f->temps.size(), 1u);
  EXPECT_EQ(f->temps[0], (std::pair<unsigned, size_t>{3, 4096}));

  ASSERT_EQ(f->steps.size(), 2u);
  const Step &launch = f->steps[0];
  EXPECT_EQ(launch.kind, Step::Launch);
  EXPECT_EQ(launch.kernel, "k0");
  EXPECT_EQ(launch.grid[0], 8u);
  EXPECT_EQ(launch.grid[2], 2u);
  EXPECT_EQ(launch.block[1], 8u);
  EXPECT_EQ(launch.sharedBytes, 1024u);
  ASSERT_EQ(launch.params.size(), 6u);
  EXPECT_EQ(launch.params[0].kind, Param::Buffer);
  EXPECT_EQ(launch.params[1].value, 3);
  EXPECT_EQ(launch.params[2].kind, Param::I64);
  EXPECT_EQ(launch.params[2].value, -5);
  EXPECT_EQ(launch.params[3].kind, Param::I32);
  EXPECT_EQ(launch.params[4].kind, Param::F32);
  EXPECT_EQ(launch.params[4].value, 0x3f800000);
  // A double's full 64-bit pattern (-inf), past strtoll's range.
  EXPECT_EQ(launch.params[5].kind, Param::F64);
  EXPECT_EQ(static_cast<uint64_t>(launch.params[5].value),
            0xfff0000000000000ull);

  const Step &copy = f->steps[1];
  EXPECT_EQ(copy.kind, Step::Copy);
  EXPECT_EQ(copy.src, 3u);
  EXPECT_EQ(copy.dst, 2u);
  EXPECT_EQ(copy.bytes, 8u);
}

TEST(Manifest, ParsesWeightsAndConstants) {
  Manifest m;
  std::string error;
  ASSERT_TRUE(parseManifest("kestrel-manifest 1 cuda\nptx m.ptx\n"
                            "weights m.weights 200 0xfff0000000000001\n"
                            "function f 1 1\nin f32 4\nout f32 4\n"
                            "const 2 bf16 2x3 64 12\nconst 3 i1 scalar 199 1\n"
                            "copy 2 1 12\nend\n",
                            m, error))
      << error;
  EXPECT_EQ(m.weights, "m.weights");
  EXPECT_EQ(m.weightsBytes, 200u);
  // The full 64-bit checksum, past strtoll's range.
  EXPECT_EQ(m.weightsChecksum, 0xfff0000000000001ull);
  const Function &f = m.functions.at(0);
  ASSERT_EQ(f.constants.size(), 2u);
  EXPECT_EQ(f.constants[0].id, 2u);
  EXPECT_EQ(f.constants[0].tensor.dtype, "bf16");
  EXPECT_EQ(f.constants[0].tensor.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.constants[0].offset, 64u);
  EXPECT_EQ(f.constants[0].tensor.bytes(), 12u);
  EXPECT_TRUE(f.constants[1].tensor.shape.empty());
  EXPECT_EQ(f.constants[1].offset, 199u);
  // The constants are buffers, not steps.
  EXPECT_EQ(f.steps.size(), 1u);
}

TEST(Manifest, Fnv1a64MatchesTheReferenceVectors) {
  // From the FNV reference (draft-eastlake-fnv): "" and "a".
  EXPECT_EQ(fnv1a64("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar", 6), 0x85944171f73967e8ull);
}

/// Parses `text` expecting failure; returns the error.
std::string failure(const std::string &text) {
  Manifest m;
  std::string error;
  EXPECT_FALSE(parseManifest(text, m, error)) << text;
  return error;
}

TEST(Manifest, RejectsMalformedInput) {
  EXPECT_EQ(failure(""), "empty manifest");
  EXPECT_NE(failure("kestrel-manifest 2 cpu\n").find("line 1"),
            std::string::npos);
  EXPECT_NE(failure("not a manifest\n").find("line 1"), std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cpu\nin f32 4\n")
                .find("line 2: expected 'function' before this line"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cpu\nfunction f 1 0\nin f32 4xq\n")
                .find("line 3"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cpu\nfunction f 1 0\nin f32 -4\n")
                .find("line 3"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cuda\nfunction f 0 0\n"
                    "launch k grid 1 0 1\nend\n")
                .find("bad grid dimensions"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cuda\nfunction f 0 0\n"
                    "launch k params b1 x:3\nend\n")
                .find("bad kernel parameter 'x:3'"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cpu\nfunction f 0 0\nbogus\n")
                .find("unknown entry 'bogus'"),
            std::string::npos);
  EXPECT_EQ(failure("kestrel-manifest 1 cpu\nfunction f 0 0\n"),
            "manifest ends inside function 'f'");
  const std::string w = "kestrel-manifest 1 cuda\nweights w 16 0x1\n"
                        "function f 0 0\n";
  EXPECT_NE(failure(w + "const 2 f32 4 4 16\nend\n")
                .find("line 4: constant beyond the 16 bytes of w"),
            std::string::npos);
  EXPECT_NE(failure(w + "const 2 f32 4 0 8\nend\n")
                .find("constant of 8 bytes, but f32 4 takes 16"),
            std::string::npos);
  EXPECT_NE(failure(w + "const 2 f32 4 0\nend\n").find("expected 'const ID"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cuda\nfunction f 0 0\n"
                    "const 2 f32 4 0 16\nend\n")
                .find("'const' without a 'weights' file"),
            std::string::npos);
  EXPECT_NE(failure(w + "end\nweights w 16 0x1\n").find("a second 'weights'"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cuda\nfunction f 0 0\nend\n"
                    "weights w 16 0x1\n")
                .find("before the functions"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cuda\nweights w 16 1234\n")
                .find("expected 'weights FILE BYTES 0xFNV1A64'"),
            std::string::npos);
}

TEST(Manifest, RejectsWhatWouldMisSizeBuffers) {
  const std::string f = "kestrel-manifest 1 cpu\nfunction f 1 1\n";
  EXPECT_NE(failure(f + "in f33 4\nout f32 4\nend\n")
                .find("line 3: unknown dtype 'f33'"),
            std::string::npos);
  EXPECT_NE(failure(f + "in f32 4\nend\n")
                .find("declares 1 inputs and 1 outputs but lists 1 and 0"),
            std::string::npos);
  EXPECT_NE(failure(f + "in f32 4294967296x4294967296\n").find("line 3"),
            std::string::npos);
  EXPECT_NE(failure(f + "in f32 99999999999999999999\n").find("line 3"),
            std::string::npos);
  EXPECT_NE(failure("kestrel-manifest 1 cpu\nfunction f -1 0\nend\n")
                .find("expected 'function NAME NUM_IN NUM_OUT'"),
            std::string::npos);
  EXPECT_NE(failure(f + "in f32 4\nout f32 4\nend\nfunction f 0 0\nend\n")
                .find("a second function 'f'"),
            std::string::npos);
  EXPECT_NE(failure(f + "function g 0 0\n").find("'f' has no 'end'"),
            std::string::npos);
  const std::string c = "kestrel-manifest 1 cuda\nfunction f 0 0\n";
  EXPECT_NE(failure(c + "temp -1 8\nend\n").find("expected 'temp ID BYTES'"),
            std::string::npos);
  EXPECT_NE(failure(c + "copy 0 1 -8\nend\n").find("expected 'copy"),
            std::string::npos);
  EXPECT_NE(failure(c + "launch k params b-1\nend\n").find("'b-1'"),
            std::string::npos);
  EXPECT_NE(failure(c + "launch k grid 4294967296 1 1\nend\n")
                .find("bad grid dimensions"),
            std::string::npos);
}

} // namespace
