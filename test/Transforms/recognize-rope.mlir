// RUN: kestrel-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kestrel-recognize))' | FileCheck %s

// kestrel-recognize, RoPE: x · cos + concat(-x[.., D/2:], x[.., :D/2]) · sin
// with constant rotate-half tables becomes kestrel.rope; near misses stay.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#td = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @rope(
// CHECK-SAME: %[[X:.*]]: tensor<1x2x4x8xf32>
// CHECK: %[[R:.*]] = kestrel.rope %[[X]] base = 1.000000e+04 : tensor<1x2x4x8xf32>
// CHECK-NOT: tensor.concat
// CHECK: return %[[R]]
func.func @rope(%x: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418, 0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418], [-0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776, -0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776], [-0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418, -0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418]]> : tensor<4x8xf32>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077, 0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077], [0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407, 0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407], [0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027, 0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027]]> : tensor<4x8xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %neg0 = tensor.empty() : tensor<1x2x4x4xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%hi : tensor<1x2x4x4xf32>) outs(%neg0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a0: f32, %o: f32):
    %r = arith.negf %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %rot = tensor.concat dim(3) %neg, %lo : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %xc0 = tensor.empty() : tensor<1x2x4x8xf32>
  %xc = linalg.generic {indexing_maps = [#id, #td, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %cos : tensor<1x2x4x8xf32>, tensor<4x8xf32>) outs(%xc0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %rs0 = tensor.empty() : tensor<1x2x4x8xf32>
  %rs = linalg.generic {indexing_maps = [#td, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sin, %rot : tensor<4x8xf32>, tensor<1x2x4x8xf32>) outs(%rs0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %y0 = tensor.empty() : tensor<1x2x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %rs : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%y0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#td = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @rope_base_500k(
// CHECK: kestrel.rope %{{.*}} base = 5.000000e+05
func.func @rope_base_500k(%x: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.5403022766113281, 0.9992929697036743, 0.9999989867210388, 1.0, 0.5403022766113281, 0.9992929697036743, 0.9999989867210388, 1.0], [-0.416146844625473, 0.9971728920936584, 0.9999960064888, 1.0, -0.416146844625473, 0.9971728920936584, 0.9999960064888, 1.0], [-0.9899924993515015, 0.9936428070068359, 0.9999909996986389, 1.0, -0.9899924993515015, 0.9936428070068359, 0.9999909996986389, 1.0]]> : tensor<4x8xf32>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.8414709568023682, 0.0375971682369709, 0.0014142130967229605, 5.3182957344688475e-05, 0.8414709568023682, 0.0375971682369709, 0.0014142130967229605, 5.3182957344688475e-05], [0.9092974066734314, 0.07514116913080215, 0.002828423399478197, 0.00010636591468937695, 0.9092974066734314, 0.07514116913080215, 0.002828423399478197, 0.00010636591468937695], [0.14112000167369843, 0.11257892102003098, 0.004242627881467342, 0.00015954887203406543, 0.14112000167369843, 0.11257892102003098, 0.004242627881467342, 0.00015954887203406543]]> : tensor<4x8xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %neg0 = tensor.empty() : tensor<1x2x4x4xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%hi : tensor<1x2x4x4xf32>) outs(%neg0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a0: f32, %o: f32):
    %r = arith.negf %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %rot = tensor.concat dim(3) %neg, %lo : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %xc0 = tensor.empty() : tensor<1x2x4x8xf32>
  %xc = linalg.generic {indexing_maps = [#id, #td, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %cos : tensor<1x2x4x8xf32>, tensor<4x8xf32>) outs(%xc0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %rs0 = tensor.empty() : tensor<1x2x4x8xf32>
  %rs = linalg.generic {indexing_maps = [#td, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sin, %rot : tensor<4x8xf32>, tensor<1x2x4x8xf32>) outs(%rs0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %y0 = tensor.empty() : tensor<1x2x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %rs : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%y0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#td = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @halves_swapped(
// CHECK-NOT: kestrel.rope
// CHECK: tensor.concat
func.func @halves_swapped(%x: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418, 0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418], [-0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776, -0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776], [-0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418, -0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418]]> : tensor<4x8xf32>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077, 0.8414709568023682, 0.0998334139585495, 0.009999833069741726, 0.0009999998146668077], [0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407, 0.9092974066734314, 0.19866932928562164, 0.019998665899038315, 0.0019999986980110407], [0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027, 0.14112000167369843, 0.29552021622657776, 0.029995501041412354, 0.0029999956022948027]]> : tensor<4x8xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %lo = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %neg0 = tensor.empty() : tensor<1x2x4x4xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%hi : tensor<1x2x4x4xf32>) outs(%neg0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a0: f32, %o: f32):
    %r = arith.negf %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %rot = tensor.concat dim(3) %neg, %lo : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %xc0 = tensor.empty() : tensor<1x2x4x8xf32>
  %xc = linalg.generic {indexing_maps = [#id, #td, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %cos : tensor<1x2x4x8xf32>, tensor<4x8xf32>) outs(%xc0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %rs0 = tensor.empty() : tensor<1x2x4x8xf32>
  %rs = linalg.generic {indexing_maps = [#td, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sin, %rot : tensor<4x8xf32>, tensor<1x2x4x8xf32>) outs(%rs0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %y0 = tensor.empty() : tensor<1x2x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %rs : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%y0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#td = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// CHECK-LABEL: func.func @wrong_sin_table(
// CHECK-NOT: kestrel.rope
// CHECK: tensor.concat
func.func @wrong_sin_table(%x: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %cos = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418, 0.5403022766113281, 0.9950041770935059, 0.9999499917030334, 0.9999995231628418], [-0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776, -0.416146844625473, 0.9800665974617004, 0.9998000264167786, 0.9999979734420776], [-0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418, -0.9899924993515015, 0.9553365111351013, 0.9995500445365906, 0.9999955296516418]]> : tensor<4x8xf32>
  %sin = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.8498856425285339, 0.10083174705505371, 0.010099831037223339, 0.0010099997743964195, 0.8498856425285339, 0.10083174705505371, 0.010099831037223339, 0.0010099997743964195], [0.9183903932571411, 0.20065602660179138, 0.020198652520775795, 0.0020199986174702644, 0.9183903932571411, 0.20065602660179138, 0.020198652520775795, 0.0020199986174702644], [0.14253120124340057, 0.2984754145145416, 0.03029545582830906, 0.00302999559789896, 0.14253120124340057, 0.2984754145145416, 0.03029545582830906, 0.00302999559789896]]> : tensor<4x8xf32>
  %hi = tensor.extract_slice %x[0, 0, 0, 4] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %lo = tensor.extract_slice %x[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x8xf32> to tensor<1x2x4x4xf32>
  %neg0 = tensor.empty() : tensor<1x2x4x4xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%hi : tensor<1x2x4x4xf32>) outs(%neg0 : tensor<1x2x4x4xf32>) {
  ^bb0(%a0: f32, %o: f32):
    %r = arith.negf %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x4xf32>
  %rot = tensor.concat dim(3) %neg, %lo : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x8xf32>
  %xc0 = tensor.empty() : tensor<1x2x4x8xf32>
  %xc = linalg.generic {indexing_maps = [#id, #td, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %cos : tensor<1x2x4x8xf32>, tensor<4x8xf32>) outs(%xc0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %rs0 = tensor.empty() : tensor<1x2x4x8xf32>
  %rs = linalg.generic {indexing_maps = [#td, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%sin, %rot : tensor<4x8xf32>, tensor<1x2x4x8xf32>) outs(%rs0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %y0 = tensor.empty() : tensor<1x2x4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %rs : tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) outs(%y0 : tensor<1x2x4x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %o: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  return %y : tensor<1x2x4x8xf32>
}
