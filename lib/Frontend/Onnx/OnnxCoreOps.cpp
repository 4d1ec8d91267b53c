//===- OnnxCoreOps.cpp - ONNX elementwise, MatMul, Softmax, Reshape, ... --===//
//
// The ops the importer started with, one handler each behind a table:
// Constant, Identity, the float elementwise ops (one linalg.generic with
// NumPy broadcasting; Add/Sub/Mul/Div/Max/Min also on integers, folded at
// import time when the inputs are constants), MatMul, Softmax, Transpose,
// Reshape and ReduceMean/Sum/Max/Min/Prod through the builders of
// OnnxBuilders.cpp, and TopK (kestrel.top_k, OnnxTensorOps.cpp).
//
//===----------------------------------------------------------------------===//

#include "OnnxNodeConverter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;

namespace kestrel::onnximport {

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

/// Integer semantics of the binary ops, for folding shape arithmetic;
/// nullopt for a division by zero and where Add/Sub/Mul overflow int64 (the
/// op is then left to run time, whose arith ops wrap).
std::optional<int64_t> foldBinary(StringRef op, int64_t x, int64_t y) {
  if (op == "Add")
    return llvm::checkedAdd(x, y);
  if (op == "Sub")
    return llvm::checkedSub(x, y);
  if (op == "Mul")
    return llvm::checkedMul(x, y);
  if (op == "Div") {
    if (!y)
      return std::nullopt;
    // The one overflowing quotient wraps (as NumPy's); at run time the
    // division instruction would trap.
    return x == INT64_MIN && y == -1 ? INT64_MIN : x / y;
  }
  if (op == "Max")
    return std::max(x, y);
  if (op == "Min")
    return std::min(x, y);
  return std::nullopt;
}

/// One node of an op of this file.
class CoreNode : public NodeConverter {
public:
  CoreNode(Importer &im, const onnx::NodeProto &node, ArrayRef<Value> in,
           SmallVectorImpl<Value> &out)
      : NodeConverter(im, node, in, out,
                      node.op_type() + " '" + node.name() + "'"),
        op(node.op_type()) {}

  LogicalResult constant();
  LogicalResult identity();
  LogicalResult unary();
  LogicalResult binary();
  LogicalResult matMul();
  LogicalResult softmax();
  LogicalResult permute();
  LogicalResult reshapeTo();
  LogicalResult reduction(); // ReduceMean/Sum/Max/Min/Prod
  LogicalResult topK();

  /// Whether every present input has a float element type.
  bool floatInputs() const {
    return llvm::all_of(in, [](Value v) {
      return !v || isa<FloatType>(typeOf(v).getElementType());
    });
  }
  /// Whether every input is present with a (non-bool) integer element type.
  bool intInputs() const {
    return llvm::all_of(in, [](Value v) {
      return v && isa<IntegerType>(typeOf(v).getElementType()) &&
             !typeOf(v).getElementType().isInteger(1);
    });
  }
  /// Fails (with an error) unless input 0 has a float element type.
  LogicalResult needFloat();

  std::string op;
};

/// The op types of this file and their handlers, in the order
/// --list-onnx-ops prints them.
struct CoreOpEntry {
  const char *opType;
  LogicalResult (CoreNode::*handler)();
};

const CoreOpEntry kCoreOps[] = {
    {"Neg", &CoreNode::unary},           {"Exp", &CoreNode::unary},
    {"Log", &CoreNode::unary},           {"Sqrt", &CoreNode::unary},
    {"Abs", &CoreNode::unary},           {"Tanh", &CoreNode::unary},
    {"Erf", &CoreNode::unary},           {"Reciprocal", &CoreNode::unary},
    {"Relu", &CoreNode::unary},          {"Sigmoid", &CoreNode::unary},
    {"Softplus", &CoreNode::unary},      {"Cos", &CoreNode::unary},
    {"Sin", &CoreNode::unary},           {"Identity", &CoreNode::identity},
    {"Add", &CoreNode::binary},          {"Sub", &CoreNode::binary},
    {"Mul", &CoreNode::binary},          {"Div", &CoreNode::binary},
    {"Pow", &CoreNode::binary},          {"Max", &CoreNode::binary},
    {"Min", &CoreNode::binary},          {"MatMul", &CoreNode::matMul},
    {"Softmax", &CoreNode::softmax},     {"Transpose", &CoreNode::permute},
    {"Reshape", &CoreNode::reshapeTo},   {"ReduceMean", &CoreNode::reduction},
    {"ReduceSum", &CoreNode::reduction}, {"ReduceMax", &CoreNode::reduction},
    {"Constant", &CoreNode::constant},   {"TopK", &CoreNode::topK},
    {"ReduceMin", &CoreNode::reduction}, {"ReduceProd", &CoreNode::reduction},
};

} // namespace

std::vector<std::string> coreOps() {
  std::vector<std::string> names;
  for (const CoreOpEntry &e : kCoreOps)
    names.push_back(e.opType);
  return names;
}

LogicalResult Importer::convertCoreOp(const onnx::NodeProto &node,
                                      ArrayRef<Value> in,
                                      SmallVectorImpl<Value> &out,
                                      bool &handled) {
  StringRef op = node.op_type();
  const CoreOpEntry *entry = llvm::find_if(
      kCoreOps, [&](const CoreOpEntry &e) { return op == e.opType; });
  if (entry == std::end(kCoreOps))
    return success();
  handled = true;
  CoreNode cn(*this, node, in, out);
  return (cn.*entry->handler)();
}

LogicalResult CoreNode::constant() {
  const onnx::TensorProto *tensor = nullptr;
  if (const onnx::AttributeProto *v = attribute(node, "value");
      v && v->has_t()) {
    tensor = &v->t();
  } else {
    // value_int(s) / value_float(s): build the equivalent tensor.
    onnx::TensorProto &t = im.owned.emplace_back();
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
  FailureOr<Value> c = im.constant(*tensor);
  if (failed(c))
    return failure();
  out.push_back(*c);
  return success();
}

LogicalResult CoreNode::identity() {
  out.push_back(in[0]);
  return success();
}

LogicalResult CoreNode::unary() {
  if (!floatInputs())
    return error(what + " on integers is not supported");
  out.push_back(elementwise({in[0]}, typeOf(in[0]).getElementType(),
                            [&](OpBuilder &nb, Location l, ValueRange a) {
                              return unaryBody(op, nb, l, a[0]);
                            }));
  return success();
}

LogicalResult CoreNode::binary() {
  bool variadic = op == "Max" || op == "Min";
  if (in.size() != 2 && !(variadic && !in.empty()))
    return error(what + " expects 2 inputs, got " + std::to_string(in.size()));
  bool ints = intInputs();
  if (!floatInputs() && !(ints && foldBinary(op, 0, 1)))
    return error(what + " on these element types is not supported (float, or "
                        "integer Add/Sub/Mul/Div/Max/Min)");
  for (Value v : in)
    if (typeOf(v).getElementType() != typeOf(in[0]).getElementType())
      return error(what + " mixes element types");
  SmallVector<DenseElementsAttr> cst;
  for (Value v : in)
    cst.push_back(foldedOf(v));
  if (ints && llvm::all_of(cst, [](DenseElementsAttr a) { return a; })) {
    bool undefined = false; // integer division by zero: left to run time
    DenseElementsAttr f = foldElementwise(
        cst, typeOf(in[0]).getElementType(), [&](ArrayRef<int64_t> a) {
          int64_t acc = a[0];
          for (int64_t x : a.drop_front()) {
            std::optional<int64_t> r = foldBinary(op, acc, x);
            undefined |= !r;
            acc = r.value_or(0);
          }
          return acc;
        });
    if (f && !undefined) {
      out.push_back(materialize(f));
      return success();
    }
  }
  // Max and Min fold any number of inputs left to right.
  out.push_back(elementwise(in, typeOf(in[0]).getElementType(),
                            [&](OpBuilder &nb, Location l, ValueRange a) {
                              Value acc = a[0];
                              for (Value x : a.drop_front())
                                acc = binaryBody(op, nb, l, acc, x);
                              return acc;
                            }));
  return success();
}

LogicalResult CoreNode::matMul() {
  // numpy.matmul: a 1-D operand is a row (left) or column (right) vector
  // whose unit dimension is dropped from the result.
  Value a = in[0], bm = in[1];
  auto as = typeOf(a).getShape(), bs = typeOf(bm).getShape();
  if (as.size() == 1)
    a = reshape(a, {1, as[0]});
  if (bs.size() == 1)
    bm = reshape(bm, {bs[0], 1});
  Value y = matmul(a, bm);
  SmallVector<int64_t> shape(typeOf(y).getShape());
  if (bs.size() == 1)
    shape.pop_back();
  if (as.size() == 1)
    shape.erase(shape.end() - (bs.size() == 1 ? 1 : 2));
  if (as.size() == 1 || bs.size() == 1)
    y = reshape(y, shape);
  out.push_back(y);
  return success();
}

LogicalResult CoreNode::needFloat() {
  if (!isa<FloatType>(typeOf(in[0]).getElementType()))
    return error(what + " on integer or bool element types "
                        "is not supported");
  return success();
}

LogicalResult CoreNode::softmax() {
  if (failed(needFloat()))
    return failure();
  out.push_back(im.softmax(in[0], intAttr(node, "axis", -1)));
  return success();
}

LogicalResult CoreNode::permute() {
  std::vector<int64_t> perm = intsAttr(node, "perm");
  if (perm.empty())
    for (int64_t i = typeOf(in[0]).getRank() - 1; i >= 0; --i)
      perm.push_back(i);
  out.push_back(transpose(in[0], perm));
  return success();
}

LogicalResult CoreNode::reshapeTo() {
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
    if (s[i] < -1 || (s[i] == -1 && inferred >= 0))
      return error("Reshape '" + node.name() + "' has target dimension " +
                   std::to_string(s[i]) + " at position " + std::to_string(i) +
                   " (only one -1 is allowed, no other negative value)");
    if (s[i] == -1) {
      inferred = i;
      continue;
    }
    std::optional<int64_t> product = llvm::checkedMul(known, s[i]);
    if (!product)
      return error("Reshape '" + node.name() +
                   "': the target shape's element count overflows int64");
    known = *product;
  }
  if (inferred >= 0 && known != 0)
    s[inferred] = typeOf(in[0]).getNumElements() / known;
  if (failed(im.checkShape(s, typeOf(in[0]).getElementType(), "target shape")))
    return failure();
  int64_t count = 1;
  for (int64_t d : s)
    count *= d;
  if (count != typeOf(in[0]).getNumElements() ||
      llvm::any_of(s, [](int64_t d) { return d < 0; }))
    return error("Reshape '" + node.name() + "' cannot reshape " +
                 std::to_string(typeOf(in[0]).getNumElements()) +
                 " elements to the requested shape");
  out.push_back(reshape(in[0], s));
  return success();
}

LogicalResult CoreNode::reduction() {
  if (failed(needFloat()))
    return failure();
  std::vector<int64_t> axes = intsAttr(node, "axes");
  if (node.input_size() > 1 && !node.input(1).empty()) {
    FailureOr<std::vector<int64_t>> a = constInts(node.input(1), "axes");
    if (failed(a))
      return failure();
    axes = *a;
  }
  if (failed(im.checkAxes(axes, typeOf(in[0]).getRank(), "axes")))
    return failure();
  if (axes.empty() && intAttr(node, "noop_with_empty_axes", 0))
    out.push_back(in[0]);
  else
    out.push_back(reduce(in[0], axes, intAttr(node, "keepdims", 1),
                         op == "ReduceMean"   ? "mean"
                         : op == "ReduceSum"  ? "sum"
                         : op == "ReduceMin"  ? "min"
                         : op == "ReduceProd" ? "prod"
                                              : "max"));
  return success();
}

// kestrel.top_k, which the routing recognition of kestrel-recognize reads
// back.
LogicalResult CoreNode::topK() { return im.convertTopK(node, in, out); }

} // namespace kestrel::onnximport
