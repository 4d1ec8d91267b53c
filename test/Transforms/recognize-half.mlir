// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s

// kestrel-recognize on f16 / bf16 graphs (a model exported after
// model.half() or .to(torch.bfloat16)): attention and rotate-half RoPE are
// recognized as in f32 (recognize-attention.mlir, recognize-rope.mlir, whose
// cases these are, retyped), the kestrel op keeping the storage type. Masks
// may use -inf or Hugging Face's finfo(f16).min fill (-65504); RoPE tables
// rounded to f16 / bf16 are accepted within the rounding of their type, a
// table off by 1% is not.

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @causal_mul_f16(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xf16>, %[[K:[^:]*]]: tensor<1x2x4x8xf16>, %[[V:[^:]*]]: tensor<1x2x4x8xf16>
// CHECK: %[[A:.*]] = kestrel.attention %[[Q]], %[[K]], %[[V]] causal scale = {{.*}} : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16> -> tensor<1x2x4x8xf16>
// CHECK-NOT: linalg
// CHECK: return %[[A]]
func.func @causal_mul_f16(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xf16>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf16>) outs(%kt0 : tensor<1x2x8x4xf16>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f16
  %e0 = tensor.empty() : tensor<1x2x4x4xf16>
  %f0 = linalg.fill ins(%zero : f16) outs(%e0 : tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf16>, tensor<1x2x8x4xf16>) outs(%f0 : tensor<1x2x4x4xf16>) {
  ^bb0(%a: f16, %b: f16, %c: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %c, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf16>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf16>) outs(%ls0 : tensor<1x2x4x4xf16>) {
  ^bb0(%x0: f16, %out: f16):
    %s = arith.constant 0.353553385 : f16
    %r = arith.mulf %x0, %s : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %mask = arith.constant dense<[[0.0, 0xFC00, 0xFC00, 0xFC00], [0.0, 0.0, 0xFC00, 0xFC00], [0.0, 0.0, 0.0, 0xFC00], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf16>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf16>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xf16>, tensor<4x4xf16>) outs(%lm0 : tensor<1x2x4x4xf16>) {
  ^bb0(%x0: f16, %x1: f16, %out: f16):
    %r = arith.addf %x0, %x1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf16>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf16>) outs(%sm0 : tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %e1 = tensor.empty() : tensor<1x2x4x8xf16>
  %f1 = linalg.fill ins(%zero : f16) outs(%e1 : tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf16>, tensor<1x2x4x8xf16>) outs(%f1 : tensor<1x2x4x8xf16>) {
  ^bb0(%a: f16, %b: f16, %c: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %c, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  return %res : tensor<1x2x4x8xf16>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @causal_hf_fill_f16(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xf16>, %[[K:[^:]*]]: tensor<1x2x4x8xf16>, %[[V:[^:]*]]: tensor<1x2x4x8xf16>
// CHECK: %[[A:.*]] = kestrel.attention %[[Q]], %[[K]], %[[V]] causal scale = {{.*}} : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16> -> tensor<1x2x4x8xf16>
// CHECK-NOT: linalg
// CHECK: return %[[A]]
func.func @causal_hf_fill_f16(%q: tensor<1x2x4x8xf16>, %k: tensor<1x2x4x8xf16>, %v: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xf16>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xf16>) outs(%kt0 : tensor<1x2x8x4xf16>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f16
  %e0 = tensor.empty() : tensor<1x2x4x4xf16>
  %f0 = linalg.fill ins(%zero : f16) outs(%e0 : tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xf16>, tensor<1x2x8x4xf16>) outs(%f0 : tensor<1x2x4x4xf16>) {
  ^bb0(%a: f16, %b: f16, %c: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %c, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %ls0 = tensor.empty() : tensor<1x2x4x4xf16>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xf16>) outs(%ls0 : tensor<1x2x4x4xf16>) {
  ^bb0(%x0: f16, %out: f16):
    %s = arith.constant 0.353553385 : f16
    %r = arith.mulf %x0, %s : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %mask = arith.constant dense<[[0.0, -65504.0, -65504.0, -65504.0], [0.0, 0.0, -65504.0, -65504.0], [0.0, 0.0, 0.0, -65504.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xf16>
  %lm0 = tensor.empty() : tensor<1x2x4x4xf16>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xf16>, tensor<4x4xf16>) outs(%lm0 : tensor<1x2x4x4xf16>) {
  ^bb0(%x0: f16, %x1: f16, %out: f16):
    %r = arith.addf %x0, %x1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %sm0 = tensor.empty() : tensor<1x2x4x4xf16>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xf16>) outs(%sm0 : tensor<1x2x4x4xf16>) -> tensor<1x2x4x4xf16>
  %e1 = tensor.empty() : tensor<1x2x4x8xf16>
  %f1 = linalg.fill ins(%zero : f16) outs(%e1 : tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xf16>, tensor<1x2x4x8xf16>) outs(%f1 : tensor<1x2x4x8xf16>) {
  ^bb0(%a: f16, %b: f16, %c: f16):
    %m = arith.mulf %a, %b : f16
    %r = arith.addf %c, %m : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  return %res : tensor<1x2x4x8xf16>
}

// -----

#q = affine_map<(b, h, t, s, d) -> (b, h, t, d)>
#k = affine_map<(b, h, t, s, d) -> (b, h, d, s)>
#o = affine_map<(b, h, t, s, d) -> (b, h, t, s)>
#p = affine_map<(b, h, t, d, s) -> (b, h, t, s)>
#v = affine_map<(b, h, t, d, s) -> (b, h, s, d)>
#po = affine_map<(b, h, t, d, s) -> (b, h, t, d)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ts = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#sc = affine_map<(d0, d1, d2, d3) -> ()>

// CHECK-LABEL: func.func @causal_mul_bf16(
// CHECK-SAME: %[[Q:[^:]*]]: tensor<1x2x4x8xbf16>, %[[K:[^:]*]]: tensor<1x2x4x8xbf16>, %[[V:[^:]*]]: tensor<1x2x4x8xbf16>
// CHECK: %[[A:.*]] = kestrel.attention %[[Q]], %[[K]], %[[V]] causal scale = {{.*}} : tensor<1x2x4x8xbf16>, tensor<1x2x4x8xbf16>, tensor<1x2x4x8xbf16> -> tensor<1x2x4x8xbf16>
// CHECK-NOT: linalg
// CHECK: return %[[A]]
func.func @causal_mul_bf16(%q: tensor<1x2x4x8xbf16>, %k: tensor<1x2x4x8xbf16>, %v: tensor<1x2x4x8xbf16>) -> tensor<1x2x4x8xbf16> {
  %kt0 = tensor.empty() : tensor<1x2x8x4xbf16>
  %kt = linalg.transpose ins(%k : tensor<1x2x4x8xbf16>) outs(%kt0 : tensor<1x2x8x4xbf16>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : bf16
  %e0 = tensor.empty() : tensor<1x2x4x4xbf16>
  %f0 = linalg.fill ins(%zero : bf16) outs(%e0 : tensor<1x2x4x4xbf16>) -> tensor<1x2x4x4xbf16>
  %l = linalg.generic {indexing_maps = [#q, #k, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : tensor<1x2x4x8xbf16>, tensor<1x2x8x4xbf16>) outs(%f0 : tensor<1x2x4x4xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %c: bf16):
    %m = arith.mulf %a, %b : bf16
    %r = arith.addf %c, %m : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x4xbf16>
  %ls0 = tensor.empty() : tensor<1x2x4x4xbf16>
  %ls = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%l : tensor<1x2x4x4xbf16>) outs(%ls0 : tensor<1x2x4x4xbf16>) {
  ^bb0(%x0: bf16, %out: bf16):
    %s = arith.constant 0.353553385 : bf16
    %r = arith.mulf %x0, %s : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x4xbf16>
  %mask = arith.constant dense<[[0.0, 0xFF80, 0xFF80, 0xFF80], [0.0, 0.0, 0xFF80, 0xFF80], [0.0, 0.0, 0.0, 0xFF80], [0.0, 0.0, 0.0, 0.0]]> : tensor<4x4xbf16>
  %lm0 = tensor.empty() : tensor<1x2x4x4xbf16>
  %lm = linalg.generic {indexing_maps = [#id, #ts, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%ls, %mask : tensor<1x2x4x4xbf16>, tensor<4x4xbf16>) outs(%lm0 : tensor<1x2x4x4xbf16>) {
  ^bb0(%x0: bf16, %x1: bf16, %out: bf16):
    %r = arith.addf %x0, %x1 : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x4xbf16>
  %sm0 = tensor.empty() : tensor<1x2x4x4xbf16>
  %p = linalg.softmax dimension(3) ins(%lm : tensor<1x2x4x4xbf16>) outs(%sm0 : tensor<1x2x4x4xbf16>) -> tensor<1x2x4x4xbf16>
  %e1 = tensor.empty() : tensor<1x2x4x8xbf16>
  %f1 = linalg.fill ins(%zero : bf16) outs(%e1 : tensor<1x2x4x8xbf16>) -> tensor<1x2x4x8xbf16>
  %res = linalg.generic {indexing_maps = [#p, #v, #po], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<1x2x4x4xbf16>, tensor<1x2x4x8xbf16>) outs(%f1 : tensor<1x2x4x8xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %c: bf16):
    %m = arith.mulf %a, %b : bf16
    %r = arith.addf %c, %m : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x8xbf16>
  return %res : tensor<1x2x4x8xbf16>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#td = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @rope_f16(
// CHECK-SAME: %[[X:.*]]: tensor<1x2x4x8xf16>
// CHECK: %[[R:.*]] = kestrel.rope %[[X]] base = 1.000000e+04 : tensor<1x2x4x8xf16>
// CHECK-NOT: tensor.concat
// CHECK: return %[[R]]
func.func @rope_f16(%x: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418, 0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418], [-0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776, -0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776], [-0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418, -0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418]]> : tensor<4x8xf16>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077, 0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077], [0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407, 0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407], [0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027, 0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027]]> : tensor<4x8xf16>
  %hi = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf16> to tensor<1x2x4x4xf16>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf16> to tensor<1x2x4x4xf16>
  %neg0 = tensor.empty() : tensor<1x2x4x4xf16>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%hi : tensor<1x2x4x4xf16>) outs(%neg0 : tensor<1x2x4x4xf16>) {
  ^bb0(%a0: f16, %o: f16):
    %r = arith.negf %a0 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %rot = tensor.concat dim(3) %neg, %lo : (tensor<1x2x4x4xf16>, tensor<1x2x4x4xf16>) -> tensor<1x2x4x8xf16>
  %xc0 = tensor.empty() : tensor<1x2x4x8xf16>
  %xc = linalg.generic {indexing_maps = [#id, #td, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %cos : tensor<1x2x4x8xf16>, tensor<4x8xf16>) outs(%xc0 : tensor<1x2x4x8xf16>) {
  ^bb0(%a0: f16, %a1: f16, %o: f16):
    %r = arith.mulf %a0, %a1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  %rs0 = tensor.empty() : tensor<1x2x4x8xf16>
  %rs = linalg.generic {indexing_maps = [#td, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sin, %rot : tensor<4x8xf16>, tensor<1x2x4x8xf16>) outs(%rs0 : tensor<1x2x4x8xf16>) {
  ^bb0(%a0: f16, %a1: f16, %o: f16):
    %r = arith.mulf %a0, %a1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  %y0 = tensor.empty() : tensor<1x2x4x8xf16>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %rs : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>) outs(%y0 : tensor<1x2x4x8xf16>) {
  ^bb0(%a0: f16, %a1: f16, %o: f16):
    %r = arith.addf %a0, %a1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  return %y : tensor<1x2x4x8xf16>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#td = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @rope_bf16(
// CHECK-SAME: %[[X:.*]]: tensor<1x2x4x8xbf16>
// CHECK: %[[R:.*]] = kestrel.rope %[[X]] base = 1.000000e+04 : tensor<1x2x4x8xbf16>
// CHECK-NOT: tensor.concat
// CHECK: return %[[R]]
func.func @rope_bf16(%x: tensor<1x2x4x8xbf16>) -> tensor<1x2x4x8xbf16> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418, 0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418], [-0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776, -0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776], [-0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418, -0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418]]> : tensor<4x8xbf16>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077, 0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077], [0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407, 0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407], [0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027, 0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027]]> : tensor<4x8xbf16>
  %hi = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xbf16> to tensor<1x2x4x4xbf16>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xbf16> to tensor<1x2x4x4xbf16>
  %neg0 = tensor.empty() : tensor<1x2x4x4xbf16>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%hi : tensor<1x2x4x4xbf16>) outs(%neg0 : tensor<1x2x4x4xbf16>) {
  ^bb0(%a0: bf16, %o: bf16):
    %r = arith.negf %a0 : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x4xbf16>
  %rot = tensor.concat dim(3) %neg, %lo : (tensor<1x2x4x4xbf16>, tensor<1x2x4x4xbf16>) -> tensor<1x2x4x8xbf16>
  %xc0 = tensor.empty() : tensor<1x2x4x8xbf16>
  %xc = linalg.generic {indexing_maps = [#id, #td, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %cos : tensor<1x2x4x8xbf16>, tensor<4x8xbf16>) outs(%xc0 : tensor<1x2x4x8xbf16>) {
  ^bb0(%a0: bf16, %a1: bf16, %o: bf16):
    %r = arith.mulf %a0, %a1 : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x8xbf16>
  %rs0 = tensor.empty() : tensor<1x2x4x8xbf16>
  %rs = linalg.generic {indexing_maps = [#td, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sin, %rot : tensor<4x8xbf16>, tensor<1x2x4x8xbf16>) outs(%rs0 : tensor<1x2x4x8xbf16>) {
  ^bb0(%a0: bf16, %a1: bf16, %o: bf16):
    %r = arith.mulf %a0, %a1 : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x8xbf16>
  %y0 = tensor.empty() : tensor<1x2x4x8xbf16>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %rs : tensor<1x2x4x8xbf16>, tensor<1x2x4x8xbf16>) outs(%y0 : tensor<1x2x4x8xbf16>) {
  ^bb0(%a0: bf16, %a1: bf16, %o: bf16):
    %r = arith.addf %a0, %a1 : bf16
    linalg.yield %r : bf16
  } -> tensor<1x2x4x8xbf16>
  return %y : tensor<1x2x4x8xbf16>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#td = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @wrong_sin_table_f16(
// CHECK-NOT: kestrel.rope
// CHECK: tensor.concat
func.func @wrong_sin_table_f16(%x: tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf16> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418, 0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418], [-0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776, -0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776], [-0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418, -0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418]]> : tensor<4x8xf16>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.8498856425285339, 0.10083174705505371, 0.010099831037223339, 0.0010099997743964195, 0.8498856425285339, 0.10083174705505371, 0.010099831037223339, 0.0010099997743964195], [0.9183903932571411, 0.20065602660179138, 0.020198652520775795, 0.0020199986174702644, 0.9183903932571411, 0.20065602660179138, 0.020198652520775795, 0.0020199986174702644], [0.14253120124340057, 0.2984754145145416, 0.03029545582830906, 0.00302999559789896, 0.14253120124340057, 0.2984754145145416, 0.03029545582830906, 0.00302999559789896]]> : tensor<4x8xf16>
  %hi = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf16> to tensor<1x2x4x4xf16>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf16> to tensor<1x2x4x4xf16>
  %neg0 = tensor.empty() : tensor<1x2x4x4xf16>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%hi : tensor<1x2x4x4xf16>) outs(%neg0 : tensor<1x2x4x4xf16>) {
  ^bb0(%a0: f16, %o: f16):
    %r = arith.negf %a0 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x4xf16>
  %rot = tensor.concat dim(3) %neg, %lo : (tensor<1x2x4x4xf16>, tensor<1x2x4x4xf16>) -> tensor<1x2x4x8xf16>
  %xc0 = tensor.empty() : tensor<1x2x4x8xf16>
  %xc = linalg.generic {indexing_maps = [#id, #td, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %cos : tensor<1x2x4x8xf16>, tensor<4x8xf16>) outs(%xc0 : tensor<1x2x4x8xf16>) {
  ^bb0(%a0: f16, %a1: f16, %o: f16):
    %r = arith.mulf %a0, %a1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  %rs0 = tensor.empty() : tensor<1x2x4x8xf16>
  %rs = linalg.generic {indexing_maps = [#td, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sin, %rot : tensor<4x8xf16>, tensor<1x2x4x8xf16>) outs(%rs0 : tensor<1x2x4x8xf16>) {
  ^bb0(%a0: f16, %a1: f16, %o: f16):
    %r = arith.mulf %a0, %a1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  %y0 = tensor.empty() : tensor<1x2x4x8xf16>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %rs : tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>) outs(%y0 : tensor<1x2x4x8xf16>) {
  ^bb0(%a0: f16, %a1: f16, %o: f16):
    %r = arith.addf %a0, %a1 : f16
    linalg.yield %r : f16
  } -> tensor<1x2x4x8xf16>
  return %y : tensor<1x2x4x8xf16>
}
