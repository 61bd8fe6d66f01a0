// Run-time checks inside a loop, a branch and a parallel loop body, at the
// tensor phase qaf-compile resumes from (runtime_errors.py, nested_cases):
// an index out of range must stop the work after the check, in the same
// iteration and after it, before anything reads or writes through it.
module attributes {qaf.artifact = {manifest = {entry_points = [
    {inputs = [{dtype = "int64", name = "indices", shape = ["n"]}], name = "loop",
     outputs = [{dtype = "float32", name = "counts", shape = [8]}], parameters = [],
     symbol = "qaf_entry_loop", weights = []},
    {inputs = [{dtype = "int64", name = "indices", shape = ["n"]}], name = "branch",
     outputs = [{dtype = "float32", name = "marked", shape = [8]}], parameters = [],
     symbol = "qaf_entry_branch", weights = []},
    {inputs = [{dtype = "int64", name = "indices", shape = ["n"]}], name = "parallel",
     outputs = [{dtype = "float32", name = "gathered", shape = ["n"]}], parameters = [],
     symbol = "qaf_entry_parallel", weights = []}],
  fingerprint = "0x0000000000000000", format = "qaf-artifact", library = "model.so",
  target = {arch = "x86_64", binary = "shared-library", cpu = "x86-64", features = "",
            kind = "cpu", triple = "x86_64-pc-linux-gnu"},
  version = 2 : i64, weights = "weights.safetensors"}, values = {}}} {

  // counts[j] += 1 for each j in indices, one index per iteration.
  func.func @loop(%indices: tensor<?xi64> {onnx.dim_params = ["n"], onnx.name = "indices"})
      -> (tensor<8xf32> {onnx.name = "counts"}) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %empty = tensor.empty() : tensor<8xf32>
    %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<8xf32>) -> tensor<8xf32>
    %n = tensor.dim %indices, %c0 : tensor<?xi64>
    %counts = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zeros) -> tensor<8xf32> {
      %v = tensor.extract %indices[%i] : tensor<?xi64>
      %j = arith.index_cast %v : i64 to index
      %ok = arith.cmpi ult, %j, %c8 : index
      qaf.check %ok, "loop: index {0} out of range in iteration {1}"(%v, %i : i64, index)
      %old = tensor.extract %acc[%j] : tensor<8xf32>
      %new = arith.addf %old, %one : f32
      %next = tensor.insert %new into %acc[%j] : tensor<8xf32>
      scf.yield %next : tensor<8xf32>
    }
    return %counts : tensor<8xf32>
  }

  // marked[indices[0]] = 1 when there is an index.
  func.func @branch(%indices: tensor<?xi64> {onnx.dim_params = ["n"], onnx.name = "indices"})
      -> (tensor<8xf32> {onnx.name = "marked"}) {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %empty = tensor.empty() : tensor<8xf32>
    %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<8xf32>) -> tensor<8xf32>
    %n = tensor.dim %indices, %c0 : tensor<?xi64>
    %some = arith.cmpi sgt, %n, %c0 : index
    %marked = scf.if %some -> tensor<8xf32> {
      %v = tensor.extract %indices[%c0] : tensor<?xi64>
      %j = arith.index_cast %v : i64 to index
      %ok = arith.cmpi ult, %j, %c8 : index
      qaf.check %ok, "branch: index {0} out of range"(%v : i64)
      %set = tensor.insert %one into %zeros[%j] : tensor<8xf32>
      scf.yield %set : tensor<8xf32>
    } else {
      scf.yield %zeros : tensor<8xf32>
    }
    return %marked : tensor<8xf32>
  }

  // gathered[i] = table[indices[i]], checked per element (OpenMP threads).
  func.func @parallel(%indices: tensor<?xi64> {onnx.dim_params = ["n"], onnx.name = "indices"})
      -> (tensor<?xf32> {onnx.name = "gathered"}) {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %table = arith.constant dense<[10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0]> : tensor<8xf32>
    %n = tensor.dim %indices, %c0 : tensor<?xi64>
    %empty = tensor.empty(%n) : tensor<?xf32>
    %gathered = linalg.generic {
        indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
        iterator_types = ["parallel"]}
        ins(%indices : tensor<?xi64>) outs(%empty : tensor<?xf32>) {
    ^bb0(%v: i64, %out: f32):
      %j = arith.index_cast %v : i64 to index
      %ok = arith.cmpi ult, %j, %c8 : index
      qaf.check %ok, "parallel: index {0} out of range"(%v : i64)
      %x = tensor.extract %table[%j] : tensor<8xf32>
      linalg.yield %x : f32
    } -> tensor<?xf32>
    return %gathered : tensor<?xf32>
  }
}
