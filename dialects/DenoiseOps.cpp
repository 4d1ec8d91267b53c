//===- DenoiseOps.cpp - Verifier of the denoising op family ---------------===//
//
// Shape and policy rules of kestrel.denoise_step (docs/ops.md §4).
// Messages name the offending values.
//
//===----------------------------------------------------------------------===//

#include "dialects/Kestrel.h"
#include "dialects/VerifierUtils.h"

#include <cmath>

using namespace mlir;
using namespace kestrel;

std::pair<int64_t, int64_t> DenoiseStepOp::getEligibleRange() {
  if (std::optional<ArrayRef<int64_t>> block = getBlock())
    return {(*block)[0], (*block)[0] + (*block)[1]};
  return {0, getTokens().getType().getDimSize(1)};
}

LogicalResult DenoiseStepOp::verify() {
  RankedTensorType logits = getLogits().getType(),
                   tokens = getTokens().getType(),
                   out = getNewTokens().getType(),
                   conf = getConfidence().getType();
  if (logits.getRank() != 3)
    return emitOpError() << "logits must have rank 3 ([B, L, V]), got "
                         << logits;
  if (tokens.getRank() != 2 ||
      mismatch(tokens.getDimSize(0), logits.getDimSize(0)) ||
      mismatch(tokens.getDimSize(1), logits.getDimSize(1)))
    return emitOpError() << "tokens must have shape [B, L] = ["
                         << logits.getDimSize(0) << ", " << logits.getDimSize(1)
                         << "], got " << tokens;
  if (out.getShape() != tokens.getShape() ||
      conf.getShape() != tokens.getShape())
    return emitOpError() << "new_tokens and confidence must have the shape of "
                            "tokens "
                         << tokens << ", got " << out << " and " << conf;

  std::optional<uint64_t> topK = getTopK();
  std::optional<APFloat> threshold = getThreshold();
  if (topK.has_value() == threshold.has_value())
    return emitOpError() << "needs exactly one policy, top_k or threshold";
  if (topK && static_cast<int64_t>(*topK) <= 0)
    return emitOpError() << "top_k must be positive, got "
                         << static_cast<int64_t>(*topK);
  if (threshold) {
    double tau = threshold->convertToDouble();
    if (!(tau >= 0 && tau <= 1))
      return emitOpError() << "threshold must lie in [0, 1] (it bounds a "
                              "probability), got "
                           << tau;
  }

  std::optional<APFloat> temperature = getTemperature();
  if (temperature.has_value() != getSeed().has_value())
    return emitOpError() << "temperature sampling needs both temperature and "
                            "an explicit seed, got "
                         << (temperature ? "a temperature without a seed"
                                         : "a seed without a temperature");
  if (temperature && !(temperature->convertToDouble() > 0))
    return emitOpError() << "temperature must be positive (omit it for greedy "
                            "decoding), got "
                         << temperature->convertToDouble();

  if (std::optional<ArrayRef<int64_t>> block = getBlock()) {
    if (block->size() != 2)
      return emitOpError() << "block must be [start, size], got "
                           << block->size() << " values";
    int64_t start = (*block)[0], size = (*block)[1];
    int64_t len = tokens.getDimSize(1);
    if (start < 0 || size <= 0)
      return emitOpError() << "block [" << start << ", " << size
                           << "] needs start >= 0 and size > 0";
    if (!ShapedType::isDynamic(len) && start + size > len)
      return emitOpError() << "block [" << start << ", " << size
                           << "] ends past the sequence length L (" << len
                           << ")";
  }
  return success();
}
