//===- quantize-npy.cpp - qaf's quantizer on a .npy weight ----------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// A test driver, not a user tool: quantizes an ONNX MatMul weight (d_in ×
// d_out float32 .npy, viewed transposed as qaf's d_out × d_in) and writes
// codes.npy (uint8 d_out × d_in), packed.npy (uint8 d_out × d_in·bits/8),
// scales.npy and, except for NormalFloat, zeros.npy (float32 d_out ×
// groups) into the output folder, for the ONNX Runtime oracle test
// (ort_quantizer_oracle.py).
//
//===----------------------------------------------------------------------===//

#include "qaf/Quant/Quantizer.h"
#include "qaf/Runtime/Npy.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include <cstring>

using namespace llvm;
using namespace qaf;
using namespace qaf::quant;

namespace {

cl::opt<std::string> weightPath(cl::Positional, cl::desc("<weight.npy>"),
                                cl::Required);
cl::opt<std::string> outputDir(cl::Positional, cl::desc("<output-dir>"),
                               cl::Required);
cl::opt<unsigned> bits("bits", cl::desc("Code width"), cl::init(4));
cl::opt<int64_t> groupSize("group-size", cl::desc("Input features per group"),
                           cl::init(32));
cl::opt<std::string> schemeName("scheme", cl::desc("asym, sym or nf"),
                                cl::init("asym"));

template <typename T>
Error writeArray(StringRef name, DType dtype, ArrayRef<int64_t> shape,
                 ArrayRef<T> values) {
  HostTensor tensor = HostTensor::allocate(dtype, shape);
  assert(tensor.getNumBytes() == values.size() * sizeof(T) && "bad shape");
  std::memcpy(tensor.getMutableData(), values.data(), tensor.getNumBytes());
  SmallString<256> path(outputDir);
  sys::path::append(path, name);
  return writeNpyFile(path, tensor);
}

Error run() {
  std::optional<Scheme> scheme = parseSchemeName(schemeName);
  if (!scheme)
    return createStringError("unknown scheme '%s'", schemeName.c_str());
  Expected<HostTensor> weight = readNpyFile(weightPath);
  if (!weight)
    return weight.takeError();
  if (weight->getDType() != DType::Float32 || weight->getRank() != 2)
    return createStringError("%s: expected a 2-D float32 array, not %s",
                             weightPath.c_str(), weight->describe().c_str());
  int64_t dIn = weight->getShape()[0], dOut = weight->getShape()[1];

  QuantFormat format;
  format.bits = bits;
  format.groupSize = groupSize;
  format.scheme = *scheme;
  Expected<QuantizedMatrix> quantized = quantize(
      MatrixView::transposed(reinterpret_cast<const float *>(weight->getData()),
                             dOut, dIn),
      format);
  if (!quantized)
    return quantized.takeError();

  if (std::error_code ec = sys::fs::create_directories(outputDir))
    return createStringError(ec, "cannot create %s", outputDir.c_str());
  ArrayRef<uint8_t> codes(quantized->codes);
  if (Error error = writeArray("codes.npy", DType::UInt8, {dOut, dIn}, codes))
    return error;
  std::vector<uint8_t> packed;
  for (int64_t row = 0; row < dOut; ++row) {
    std::vector<uint8_t> rowBytes =
        packCodes(codes.slice(row * dIn, dIn), format.bits);
    packed.insert(packed.end(), rowBytes.begin(), rowBytes.end());
  }
  if (Error error = writeArray<uint8_t>("packed.npy", DType::UInt8,
                                        {dOut, dIn * format.bits / 8}, packed))
    return error;
  int64_t numGroups = quantized->getNumGroups();
  if (Error error = writeArray<float>("scales.npy", DType::Float32,
                                      {dOut, numGroups}, quantized->scales))
    return error;
  if (*scheme != Scheme::NormalFloat)
    return writeArray<float>("zeros.npy", DType::Float32, {dOut, numGroups},
                             quantized->zeros);
  return Error::success();
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "qaf quantizer test driver\n");
  if (Error error = run()) {
    WithColor::error(errs(), "quantize-npy")
        << toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}
