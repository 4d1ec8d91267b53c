//===- OnnxImporter.cpp - ONNX protobuf to MLIR tensors -------------------===//
//
// Graph inputs become function arguments, initializers and Constant nodes
// become arith.constant, and each supported node becomes linalg.generic /
// tensor ops on static shapes (NumPy broadcasting spelled out in indexing
// maps). Every unsupported node is reported, all at once, before failing.
// Constants (initializers, Constant nodes, values folded at import time) are
// remembered with their values so that shape operands can be read back.
// This file holds the graph walk, the shared builders and the elementwise,
// MatMul, Softmax, Transpose, Reshape and Reduce ops; OnnxTensorOps.cpp and
// OnnxNnOps.cpp the others.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"
#include "dialects/Kestrel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <numeric>

using namespace mlir;

namespace kestrel {

namespace onnximport {

/// The element type of an ONNX TensorProto data type, or null.
Type elementType(MLIRContext *ctx, int32_t dataType) {
  Builder b(ctx);
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::INT8:
    return b.getI8Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  default:
    return nullptr;
  }
}

Importer::Importer(MLIRContext &ctx, StringRef path,
                   const OnnxImportOptions &options)
    : ctx(ctx), b(&ctx), loc(FileLineColLoc::get(&ctx, path, 0, 0)),
      modelDir(llvm::sys::path::parent_path(path).str()), options(options) {}

LogicalResult Importer::error(const Twine &message) {
  emitError(loc) << message;
  return failure();
}

DenseElementsAttr Importer::foldedOf(Value v) const {
  return v ? folded.lookup(v) : DenseElementsAttr();
}

Value Importer::materialize(DenseElementsAttr attr) {
  Value v = arith::ConstantOp::create(b, loc, attr);
  folded[v] = attr;
  return v;
}

FailureOr<Value> Importer::constant(const onnx::TensorProto &t) {
  Type elt = elementType(&ctx, t.data_type());
  if (!elt)
    return error("tensor '" + t.name() + "' has unsupported data type " +
                 std::to_string(t.data_type()));
  SmallVector<int64_t> shape(t.dims().begin(), t.dims().end());
  auto type = RankedTensorType::get(shape, elt);
  int64_t count = type.getNumElements();
  std::string raw;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &entry : t.external_data()) {
      if (entry.key() == "location")
        location = entry.value();
      if (entry.key() == "offset")
        offset = std::stoll(entry.value());
      if (entry.key() == "length")
        length = std::stoll(entry.value());
    }
    llvm::SmallString<256> file(modelDir);
    llvm::sys::path::append(file, location);
    std::ifstream in(std::string(file), std::ios::binary);
    if (!in)
      return error("cannot read external data '" + std::string(file) +
                   "' of tensor '" + t.name() + "'");
    in.seekg(offset);
    int64_t bytes =
        length >= 0 ? length : count * ((elt.getIntOrFloatBitWidth() + 7) / 8);
    raw.resize(bytes);
    if (!in.read(raw.data(), bytes))
      return error("external data of tensor '" + t.name() + "' is truncated");
  } else if (t.has_raw_data()) {
    raw = t.raw_data();
  }
  DenseElementsAttr attr;
  if (!raw.empty() || count == 0) {
    if (elt.isInteger(1)) {
      SmallVector<bool> bits(raw.begin(), raw.end());
      attr = DenseElementsAttr::get(type, ArrayRef<bool>(bits));
    } else {
      size_t want = count * ((elt.getIntOrFloatBitWidth() + 7) / 8);
      if (raw.size() != want)
        return error("tensor '" + t.name() + "' holds " +
                     std::to_string(raw.size()) + " bytes, expected " +
                     std::to_string(want));
      attr = DenseElementsAttr::getFromRawBuffer(
          type, ArrayRef<char>(raw.data(), raw.size()));
    }
  } else if (t.float_data_size()) {
    SmallVector<float> v(t.float_data().begin(), t.float_data().end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(v));
  } else if (t.int64_data_size()) {
    SmallVector<int64_t> v(t.int64_data().begin(), t.int64_data().end());
    attr = DenseElementsAttr::get(type, ArrayRef<int64_t>(v));
  } else if (t.int32_data_size() && elt.isInteger(1)) {
    SmallVector<bool> v(t.int32_data().begin(), t.int32_data().end());
    attr = DenseElementsAttr::get(type, ArrayRef<bool>(v));
  } else if (t.int32_data_size() && elt.isInteger(32)) {
    SmallVector<int32_t> v(t.int32_data().begin(), t.int32_data().end());
    attr = DenseElementsAttr::get(type, ArrayRef<int32_t>(v));
  } else {
    return error("tensor '" + t.name() + "' has no data Kestrel can read");
  }
  if (attr.getNumElements() != count)
    return error("tensor '" + t.name() + "' has the wrong number of elements");
  return materialize(attr);
}

FailureOr<RankedTensorType>
Importer::inputType(const onnx::ValueInfoProto &info) {
  if (!info.type().has_tensor_type())
    return error("graph input '" + info.name() +
                 "' is not a tensor (sequence, map and optional types are not "
                 "supported)");
  const auto &tt = info.type().tensor_type();
  Type elt = elementType(&ctx, tt.elem_type());
  if (!elt)
    return error("graph input '" + info.name() + "' has unsupported type");
  SmallVector<int64_t> shape;
  auto given = options.inputShapes.find(info.name());
  if (given != options.inputShapes.end()) {
    shape.assign(given->second.begin(), given->second.end());
  } else {
    for (const auto &dim : tt.shape().dim()) {
      if (!dim.has_dim_value())
        return error("graph input '" + info.name() +
                     "' has symbolic dimension '" + dim.dim_param() +
                     "': give its shape with --input-shape " + info.name() +
                     "=DxDx...");
      shape.push_back(dim.dim_value());
    }
  }
  return RankedTensorType::get(shape, elt);
}

FailureOr<std::vector<int64_t>> Importer::constInts(const std::string &name,
                                                    StringRef what) {
  DenseElementsAttr attr = foldedOf(values.lookup(name));
  if (!attr || !isa<IntegerType>(attr.getElementType()))
    return error(what + " '" + name +
                 "' must be an integer constant known at import time "
                 "(initializer, Constant, or computed from static shapes)");
  std::vector<int64_t> out;
  for (const APInt &v : attr.getValues<APInt>())
    out.push_back(v.getBitWidth() == 1 ? v.getZExtValue() : v.getSExtValue());
  return out;
}

const onnx::AttributeProto *attribute(const onnx::NodeProto &node,
                                      StringRef name) {
  for (const auto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t intAttr(const onnx::NodeProto &node, StringRef name, int64_t dflt) {
  const onnx::AttributeProto *a = attribute(node, name);
  return a ? a->i() : dflt;
}

float floatAttr(const onnx::NodeProto &node, StringRef name, float dflt) {
  const onnx::AttributeProto *a = attribute(node, name);
  return a ? a->f() : dflt;
}

std::string stringAttr(const onnx::NodeProto &node, StringRef name,
                       StringRef dflt) {
  const onnx::AttributeProto *a = attribute(node, name);
  return a ? a->s() : dflt.str();
}

std::vector<int64_t> intsAttr(const onnx::NodeProto &node, StringRef name) {
  const onnx::AttributeProto *a = attribute(node, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end())
           : std::vector<int64_t>();
}

namespace {

/// op type -> scalar body for the elementwise ops (float element types).
Value unaryBody(StringRef op, OpBuilder &b, Location l, Value x) {
  Type t = x.getType();
  auto cst = [&](double v) -> Value {
    return arith::ConstantOp::create(b, l, b.getFloatAttr(t, v));
  };
  if (op == "Neg")
    return arith::NegFOp::create(b, l, x);
  if (op == "Exp")
    return math::ExpOp::create(b, l, x);
  if (op == "Log")
    return math::LogOp::create(b, l, x);
  if (op == "Sqrt")
    return math::SqrtOp::create(b, l, x);
  if (op == "Abs")
    return math::AbsFOp::create(b, l, x);
  if (op == "Tanh")
    return math::TanhOp::create(b, l, x);
  if (op == "Erf")
    return math::ErfOp::create(b, l, x);
  if (op == "Cos")
    return math::CosOp::create(b, l, x);
  if (op == "Sin")
    return math::SinOp::create(b, l, x);
  if (op == "Reciprocal")
    return arith::DivFOp::create(b, l, cst(1), x);
  if (op == "Relu")
    return arith::MaximumFOp::create(b, l, x, cst(0));
  if (op == "Sigmoid")
    return arith::DivFOp::create(
        b, l, cst(1),
        arith::AddFOp::create(
            b, l, cst(1),
            math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x))));
  if (op == "Softplus") // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), no overflow
    return arith::AddFOp::create(
        b, l, arith::MaximumFOp::create(b, l, x, cst(0)),
        math::Log1pOp::create(
            b, l,
            math::ExpOp::create(
                b, l,
                arith::NegFOp::create(b, l, math::AbsFOp::create(b, l, x)))));
  return x; // Identity
}

Value binaryBody(StringRef op, OpBuilder &b, Location l, Value x, Value y) {
  if (isa<IntegerType>(x.getType())) {
    if (op == "Div")
      return arith::DivSIOp::create(b, l, x, y); // truncates
    if (op == "Add")
      return arith::AddIOp::create(b, l, x, y);
    if (op == "Sub")
      return arith::SubIOp::create(b, l, x, y);
    if (op == "Mul")
      return arith::MulIOp::create(b, l, x, y);
    if (op == "Max")
      return arith::MaxSIOp::create(b, l, x, y);
    if (op == "Min")
      return arith::MinSIOp::create(b, l, x, y);
    return nullptr;
  }
  if (op == "Add")
    return arith::AddFOp::create(b, l, x, y);
  if (op == "Sub")
    return arith::SubFOp::create(b, l, x, y);
  if (op == "Mul")
    return arith::MulFOp::create(b, l, x, y);
  if (op == "Div")
    return arith::DivFOp::create(b, l, x, y);
  if (op == "Pow")
    return math::PowFOp::create(b, l, x, y);
  if (op == "Max")
    return arith::MaximumFOp::create(b, l, x, y);
  if (op == "Min")
    return arith::MinimumFOp::create(b, l, x, y);
  return nullptr;
}

const char *const kUnary[] = {
    "Neg",        "Exp",  "Log",     "Sqrt",     "Abs", "Tanh", "Erf",
    "Reciprocal", "Relu", "Sigmoid", "Softplus", "Cos", "Sin",  "Identity"};
const char *const kBinary[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};
/// Ops convert() handles itself (TopK: convertTopK, OnnxTensorOps.cpp).
const char *const kOther[] = {"MatMul",    "Softmax",    "Transpose",
                              "Reshape",   "ReduceMean", "ReduceSum",
                              "ReduceMax", "Constant",   "TopK"};

/// How many leading inputs `op` cannot do without.
int64_t requiredInputs(StringRef op, int64_t opset) {
  if (op == "Constant")
    return 0;
  if (op == "Where" || op == "Range" || (op == "Slice" && opset >= 10))
    return 3;
  if (llvm::is_contained(kBinary, op) && op != "Max" && op != "Min")
    return 2;
  for (const char *o :
       {"MatMul", "Reshape", "Gather", "Expand", "Equal", "Less", "Greater",
        "LessOrEqual", "GreaterOrEqual", "Gemm", "LayerNormalization",
        "RMSNormalization", "Conv", "CumSum", "TopK"})
    if (op == o)
      return 2;
  return 1;
}

/// Integer semantics of the binary ops, for folding shape arithmetic.
std::optional<int64_t> foldBinary(StringRef op, int64_t x, int64_t y) {
  if (op == "Add")
    return x + y;
  if (op == "Sub")
    return x - y;
  if (op == "Mul")
    return x * y;
  if (op == "Div")
    return y ? std::optional<int64_t>(x / y) : std::nullopt;
  if (op == "Max")
    return std::max(x, y);
  if (op == "Min")
    return std::min(x, y);
  return std::nullopt;
}

} // namespace

} // namespace onnximport

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> ops;
  for (const char *o : onnximport::kUnary)
    ops.push_back(o);
  for (const char *o : onnximport::kBinary)
    ops.push_back(o);
  for (const char *o : onnximport::kOther)
    ops.push_back(o);
  for (const std::string &o : onnximport::tensorOps())
    ops.push_back(o);
  for (const std::string &o : onnximport::nnOps())
    ops.push_back(o);
  for (const std::string &o : onnximport::fusedOps())
    ops.push_back(o);
  return ops;
}

namespace onnximport {

LogicalResult Importer::convert(const onnx::NodeProto &node) {
  StringRef op = node.op_type();
  SmallVector<Value> in;
  for (const std::string &name : node.input()) {
    if (name.empty()) {
      in.push_back(nullptr);
      continue;
    }
    auto it = values.find(name);
    if (it == values.end())
      return error("node '" + node.name() + "' reads undefined value '" + name +
                   "'");
    in.push_back(it->second);
  }
  auto floatInputs = [&]() {
    return llvm::all_of(in, [](Value v) {
      return !v || isa<FloatType>(typeOf(v).getElementType());
    });
  };
  auto intInputs = [&]() {
    return llvm::all_of(in, [](Value v) {
      return v && isa<IntegerType>(typeOf(v).getElementType()) &&
             !typeOf(v).getElementType().isInteger(1);
    });
  };
  // Required inputs must be present before any op looks at them.
  int64_t required = requiredInputs(op, opset);
  for (int64_t i = 0; i < required; ++i)
    if (i >= (int64_t)in.size() || !in[i])
      return error(op + " '" + node.name() + "' needs " +
                   std::to_string(required) + " inputs, input " +
                   std::to_string(i) + " is missing");
  if (node.output_size() == 0 || node.output(0).empty())
    return error(op + " '" + node.name() + "' has no output");
  Value out;
  SmallVector<Value> outs;
  bool handled = false;
  // TopK becomes kestrel.top_k (OnnxTensorOps.cpp), which the routing
  // recognition of kestrel-recognize reads back.
  if (op == "TopK") {
    if (failed(convertTopK(node, in, outs)))
      return failure();
    return define(node, outs);
  }
  if (failed(convertTensorOp(node, in, outs, handled)))
    return failure();
  if (!handled && failed(convertNnOp(node, in, outs, handled)))
    return failure();
  if (!handled && failed(convertFusedOp(node, in, outs, handled)))
    return failure();
  if (handled)
    return define(node, outs);
  if (op == "Constant") {
    const onnx::TensorProto *tensor = nullptr;
    if (const onnx::AttributeProto *v = attribute(node, "value");
        v && v->has_t()) {
      tensor = &v->t();
    } else {
      // value_int(s) / value_float(s): build the equivalent tensor.
      onnx::TensorProto &t = owned.emplace_back();
      if (const auto *a = attribute(node, "value_ints")) {
        t.set_data_type(onnx::TensorProto::INT64);
        t.add_dims(a->ints_size());
        for (int64_t x : a->ints())
          t.add_int64_data(x);
      } else if (const auto *a = attribute(node, "value_int")) {
        t.set_data_type(onnx::TensorProto::INT64);
        t.add_int64_data(a->i());
      } else if (const auto *a = attribute(node, "value_floats")) {
        t.set_data_type(onnx::TensorProto::FLOAT);
        t.add_dims(a->floats_size());
        for (float x : a->floats())
          t.add_float_data(x);
      } else if (const auto *a = attribute(node, "value_float")) {
        t.set_data_type(onnx::TensorProto::FLOAT);
        t.add_float_data(a->f());
      } else {
        return error("Constant node '" + node.name() +
                     "' has no value Kestrel supports (tensor, int(s), "
                     "float(s))");
      }
      tensor = &t;
    }
    FailureOr<Value> c = constant(*tensor);
    if (failed(c))
      return failure();
    out = *c;
  } else if (op == "Identity") {
    out = in[0];
  } else if (llvm::is_contained(kUnary, op)) {
    if (!floatInputs())
      return error(op + " '" + node.name() + "' on integers is not supported");
    std::string name = op.str();
    out = elementwise({in[0]}, typeOf(in[0]).getElementType(),
                      [&](OpBuilder &nb, Location l, ValueRange a) {
                        return unaryBody(name, nb, l, a[0]);
                      });
  } else if (llvm::is_contained(kBinary, op)) {
    bool variadic = op == "Max" || op == "Min";
    if (in.size() != 2 && !(variadic && !in.empty()))
      return error(op + " '" + node.name() + "' expects 2 inputs, got " +
                   std::to_string(in.size()));
    bool ints = intInputs();
    if (!floatInputs() && !(ints && foldBinary(op, 0, 1)))
      return error(op + " '" + node.name() +
                   "' on these element types is not supported (float, or "
                   "integer Add/Sub/Mul/Div/Max/Min)");
    for (Value v : in)
      if (typeOf(v).getElementType() != typeOf(in[0]).getElementType())
        return error(op + " '" + node.name() + "' mixes element types");
    std::string name = op.str();
    SmallVector<DenseElementsAttr> cst;
    for (Value v : in)
      cst.push_back(foldedOf(v));
    if (ints && llvm::all_of(cst, [](DenseElementsAttr a) { return a; })) {
      bool undefined = false; // integer division by zero: left to run time
      DenseElementsAttr f = foldElementwise(
          cst, typeOf(in[0]).getElementType(), [&](ArrayRef<int64_t> a) {
            int64_t acc = a[0];
            for (int64_t x : a.drop_front()) {
              std::optional<int64_t> r = foldBinary(name, acc, x);
              undefined |= !r;
              acc = r.value_or(0);
            }
            return acc;
          });
      if (f && !undefined) {
        values[node.output(0)] = materialize(f);
        return success();
      }
    }
    // Max and Min fold any number of inputs left to right.
    out = elementwise(in, typeOf(in[0]).getElementType(),
                      [&](OpBuilder &nb, Location l, ValueRange a) {
                        Value acc = a[0];
                        for (Value x : a.drop_front())
                          acc = binaryBody(name, nb, l, acc, x);
                        return acc;
                      });
  } else if (op == "MatMul") {
    // numpy.matmul: a 1-D operand is a row (left) or column (right) vector
    // whose unit dimension is dropped from the result.
    Value a = in[0], bm = in[1];
    auto as = typeOf(a).getShape(), bs = typeOf(bm).getShape();
    if (as.size() == 1)
      a = reshape(a, {1, as[0]});
    if (bs.size() == 1)
      bm = reshape(bm, {bs[0], 1});
    out = matmul(a, bm);
    SmallVector<int64_t> shape(typeOf(out).getShape());
    if (bs.size() == 1)
      shape.pop_back();
    if (as.size() == 1)
      shape.erase(shape.end() - (bs.size() == 1 ? 1 : 2));
    if (as.size() == 1 || bs.size() == 1)
      out = reshape(out, shape);
  } else if ((op == "Softmax" || op.starts_with("Reduce")) &&
             !isa<FloatType>(typeOf(in[0]).getElementType())) {
    return error(op + " '" + node.name() +
                 "' on integer or bool element types "
                 "is not supported");
  } else if (op == "Softmax") {
    out = softmax(in[0], intAttr(node, "axis", -1));
  } else if (op == "Transpose") {
    std::vector<int64_t> perm = intsAttr(node, "perm");
    if (perm.empty())
      for (int64_t i = typeOf(in[0]).getRank() - 1; i >= 0; --i)
        perm.push_back(i);
    out = transpose(in[0], perm);
  } else if (op == "Reshape") {
    FailureOr<std::vector<int64_t>> shape = constInts(node.input(1), "shape");
    if (failed(shape))
      return failure();
    auto src = typeOf(in[0]).getShape();
    int64_t known = 1, inferred = -1;
    std::vector<int64_t> s = *shape;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == 0 && !intAttr(node, "allowzero", 0)) {
        if (i >= src.size())
          return error("Reshape '" + node.name() + "' copies dimension " +
                       std::to_string(i) + " of a rank-" +
                       std::to_string(src.size()) + " input");
        s[i] = src[i];
      }
      if (s[i] == -1)
        inferred = i;
      else
        known *= s[i];
    }
    if (inferred >= 0 && known != 0)
      s[inferred] = typeOf(in[0]).getNumElements() / known;
    int64_t count = 1;
    for (int64_t d : s)
      count *= d;
    if (count != typeOf(in[0]).getNumElements() ||
        llvm::any_of(s, [](int64_t d) { return d < 0; }))
      return error("Reshape '" + node.name() + "' cannot reshape " +
                   std::to_string(typeOf(in[0]).getNumElements()) +
                   " elements to the requested shape");
    out = reshape(in[0], s);
  } else if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
    std::vector<int64_t> axes = intsAttr(node, "axes");
    if (node.input_size() > 1 && !node.input(1).empty()) {
      FailureOr<std::vector<int64_t>> a = constInts(node.input(1), "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (axes.empty() && intAttr(node, "noop_with_empty_axes", 0))
      out = in[0];
    else
      out = reduce(in[0], axes, intAttr(node, "keepdims", 1),
                   op == "ReduceMean"  ? "mean"
                   : op == "ReduceSum" ? "sum"
                                       : "max");
  } else {
    return error("ONNX operator " + op +
                 " is not supported"); // unreachable: checked up front
  }
  return define(node, {out});
}

LogicalResult Importer::define(const onnx::NodeProto &node,
                               ArrayRef<Value> outs) {
  for (auto [i, name] : llvm::enumerate(node.output())) {
    if (name.empty() || i >= outs.size() || !outs[i])
      continue;
    values[name] = outs[i];
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  const onnx::GraphProto &graph = model.graph();
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();

  // Every unsupported node at once, before doing any work.
  std::vector<std::string> supported = supportedOnnxOps();
  std::string unsupported;
  for (const auto &node : graph.node())
    if (llvm::is_contained(fusedOps(), node.op_type())
            ? !isFusedOpDomain(node.op_type(), node.domain())
            : (!node.domain().empty() && node.domain() != "ai.onnx") ||
                  !llvm::is_contained(supported, node.op_type()))
      unsupported += "\n  node '" + node.name() + "': " + node.op_type() +
                     " (domain '" +
                     (node.domain().empty() ? "ai.onnx" : node.domain()) +
                     "', opset " + std::to_string(opset) + ")";
  if (!unsupported.empty()) {
    emitError(loc) << "unsupported ONNX operators:" << unsupported;
    return nullptr;
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  llvm::StringSet<> initializerNames;
  for (const auto &t : graph.initializer())
    initializerNames.insert(t.name());
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const auto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    FailureOr<RankedTensorType> t = inputType(input);
    if (failed(t))
      return nullptr;
    // A zero-size argument or result makes the function fall back to
    // memref descriptors instead of the bare-pointer C ABI of the manifest.
    if (t->getNumElements() == 0) {
      emitError(loc) << "graph input '" << input.name()
                     << "' has zero elements: zero-size tensors are not "
                        "supported at function boundaries";
      return nullptr;
    }
    argTypes.push_back(*t);
    argNames.push_back(input.name());
  }
  std::string name = graph.name().empty() ? "main" : graph.name();
  for (char &c : name)
    if (!isalnum(c) && c != '_')
      c = '_';
  auto fn = func::FuncOp::create(b, loc, name, b.getFunctionType(argTypes, {}));
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToStart(body);
  for (auto [i, n] : llvm::enumerate(argNames))
    values[n] = body->getArgument(i);
  for (const auto &t : graph.initializer()) {
    FailureOr<Value> c = constant(t);
    if (failed(c))
      return nullptr;
    values[t.name()] = *c;
  }
  for (const auto &node : graph.node())
    for (const std::string &o : node.output())
      producers[o] = &node;
  for (const auto &node : graph.node())
    if (failed(convert(node))) {
      emitError(loc) << "cannot import node '" << node.name() << "' ("
                     << node.op_type() << ")";
      return nullptr;
    }
  SmallVector<Value> results;
  for (const auto &o : graph.output()) {
    auto it = values.find(o.name());
    if (it == values.end()) {
      emitError(loc) << "graph output '" << o.name() << "' is never computed";
      return nullptr;
    }
    if (typeOf(it->second).getNumElements() == 0) {
      emitError(loc) << "graph output '" << o.name()
                     << "' has zero elements: zero-size tensors are not "
                        "supported at function boundaries";
      return nullptr;
    }
    results.push_back(it->second);
  }
  func::ReturnOp::create(b, loc, results);
  fn.setType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  return module;
}

} // namespace onnximport

OwningOpRef<ModuleOp> importOnnxFile(MLIRContext &ctx, StringRef path,
                                     const OnnxImportOptions &options) {
  ctx.loadDialect<kestrel::KestrelDialect, arith::ArithDialect,
                  func::FuncDialect, linalg::LinalgDialect, math::MathDialect,
                  tensor::TensorDialect>();
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    emitError(UnknownLoc::get(&ctx))
        << "cannot read " << path << ": " << buffer.getError().message();
    return nullptr;
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray((*buffer)->getBufferStart(),
                            (*buffer)->getBufferSize()) ||
      !model.has_graph()) {
    emitError(FileLineColLoc::get(&ctx, path, 0, 0))
        << "not a valid ONNX model (protobuf parse failed or no graph)";
    return nullptr;
  }
  return onnximport::Importer(ctx, path, options).run(model);
}

} // namespace kestrel
