// RUN: kestrel-opt %s -split-input-file -verify-diagnostics

// A row kernel never launches fewer than 32 threads per block.
// expected-error @below {{row_plan threads = 16 is not a multiple of 32 in [32, 1024]}}
func.func @few_threads() attributes {p = #kestrel.row_plan<kind = "rows", threads = 16, vector = 4, perThread = 1, ops = 1>} {
  return
}

// -----

// expected-error @below {{row_plan kind must be elementwise, rows or serial, got "tiles"}}
func.func @unknown_kind() attributes {p = #kestrel.row_plan<kind = "tiles", threads = 64, vector = 4, perThread = 1, ops = 1>} {
  return
}

// -----

// expected-error @below {{row_plan vector = 3 is not 1, 2, 4 or 8}}
func.func @odd_vector() attributes {p = #kestrel.row_plan<kind = "elementwise", threads = 256, vector = 3, perThread = 1, ops = 1>} {
  return
}

// -----

// A valid plan parses (no diagnostic expected).
func.func @ok() attributes {p = #kestrel.row_plan<kind = "serial", threads = 256, vector = 1, perThread = 16, ops = 1>} {
  return
}
