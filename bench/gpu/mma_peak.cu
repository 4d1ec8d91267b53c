// The issue-rate ceiling of mma.sync.m16n8k16 (bf16 in, f32 accumulate) on
// the device: every warp runs 8 independent accumulator chains on register
// operands (no memory traffic), enough blocks to fill every SM. The
// tensor-core GEMM kernels of kestrel-gpu-gemm use this instruction, so its
// rate bounds them (bench/results: the GEMM tables read it as a ceiling).
//
//   nvcc -O3 -arch=sm_90a mma_peak.cu -o mma_peak && ./mma_peak
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(x)                                                               \
  do {                                                                         \
    cudaError_t err_ = (x);                                                       \
    if (err_ != cudaSuccess) {                                                  \
      printf("%s: %s\n", #x, cudaGetErrorString(err_));                           \
      return 1;                                                                \
    }                                                                          \
  } while (0)

__global__ void peak(float *out, int iters) {
  // bf16 pairs near 1.0 that differ per lane (random-like, not zeros).
  unsigned t = threadIdx.x * 2654435761u;
  unsigned a[4], b[2];
  for (int i = 0; i < 4; ++i)
    a[i] = 0x3f803f80u ^ ((t >> (3 * i)) & 0x007f007fu);
  for (int i = 0; i < 2; ++i)
    b[i] = 0x3f003f00u ^ ((t >> (5 * i + 1)) & 0x007f007fu);
  float acc[8][4] = {};
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int j = 0; j < 8; ++j)
      asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                   "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                   : "+f"(acc[j][0]), "+f"(acc[j][1]), "+f"(acc[j][2]),
                     "+f"(acc[j][3])
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                     "r"(b[1]));
  }
  float s = 0;
  for (int j = 0; j < 8; ++j)
    for (int k = 0; k < 4; ++k)
      s += acc[j][k];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

int main() {
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  const int threads = 256, iters = 20000;
  for (int perSm : {1, 2, 4}) {
    int blocks = prop.multiProcessorCount * perSm;
    float *out;
    CHECK(cudaMalloc(&out, sizeof(float) * blocks * threads));
    peak<<<blocks, threads>>>(out, 100);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    cudaEvent_t s, e;
    CHECK(cudaEventCreate(&s));
    CHECK(cudaEventCreate(&e));
    CHECK(cudaEventRecord(s));
    peak<<<blocks, threads>>>(out, iters);
    CHECK(cudaGetLastError());
    CHECK(cudaEventRecord(e));
    CHECK(cudaEventSynchronize(e));
    float ms;
    CHECK(cudaEventElapsedTime(&ms, s, e));
    double flops = 2.0 * 16 * 8 * 16 * 8.0 * iters * (threads / 32) * blocks;
    printf("mma.sync m16n8k16 bf16 peak: %d blocks x %d threads, %.3f ms, "
           "%.0f TFLOP/s\n",
           blocks, threads, ms, flops / ms / 1e9);
    CHECK(cudaFree(out));
  }
  return 0;
}
