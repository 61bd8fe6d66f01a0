//===- DriverDeclarationsCheck.cpp - Driver.h against cuda.h --------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
// Compiled only when the CUDA toolkit's cuda.h is found: qaf's own
// declarations of the driver API (Driver.h) must agree with it, value for
// value and signature for signature, or the build fails here.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include <cuda.h>

#include <type_traits>

namespace qaf::cuda {

#define QAF_SAME_VALUE(name)                                                   \
  static_assert(int(name) == int(::name), #name " differs from cuda.h");
QAF_SAME_VALUE(CUDA_SUCCESS)
QAF_SAME_VALUE(CUDA_ERROR_INVALID_VALUE)
QAF_SAME_VALUE(CUDA_ERROR_OUT_OF_MEMORY)
QAF_SAME_VALUE(CUDA_ERROR_NO_DEVICE)
QAF_SAME_VALUE(CUDA_ERROR_INVALID_IMAGE)
QAF_SAME_VALUE(CUDA_ERROR_NO_BINARY_FOR_GPU)
QAF_SAME_VALUE(CUDA_ERROR_INVALID_PTX)
QAF_SAME_VALUE(CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
QAF_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
QAF_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
QAF_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
QAF_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
QAF_SAME_VALUE(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
QAF_SAME_VALUE(CU_STREAM_NON_BLOCKING)
QAF_SAME_VALUE(CU_EVENT_DISABLE_TIMING)
QAF_SAME_VALUE(CU_JIT_OPTIMIZATION_LEVEL)
QAF_SAME_VALUE(CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
#undef QAF_SAME_VALUE

static_assert(sizeof(CUlaunchAttribute) == sizeof(::CUlaunchAttribute));
static_assert(offsetof(CUlaunchAttribute, value) ==
              offsetof(::CUlaunchAttribute, value));
static_assert(sizeof(CUlaunchConfig) == sizeof(::CUlaunchConfig));
static_assert(offsetof(CUlaunchConfig, hStream) ==
              offsetof(::CUlaunchConfig, hStream));
static_assert(offsetof(CUlaunchConfig, numAttrs) ==
              offsetof(::CUlaunchConfig, numAttrs));
static_assert(sizeof(CUdeviceptr) == sizeof(::CUdeviceptr));

// Each function's parameters, by size and kind, against cuda.h's: handles
// are pointers in both, enums ints.
template <typename Ours, typename Theirs> struct SameShape;
template <typename R1, typename... A1, typename R2, typename... A2>
struct SameShape<R1(A1...), R2(A2...)> {
  static constexpr bool value =
      sizeof...(A1) == sizeof...(A2) &&
      ((sizeof(A1) == sizeof(A2) &&
        std::is_pointer_v<A1> == std::is_pointer_v<A2>)&&...);
};
#define QAF_SAME_SIGNATURE(member, symbol, required, ...)                      \
  static_assert(SameShape<__VA_ARGS__, decltype(::symbol)>::value,             \
                #symbol " differs from cuda.h");
QAF_CUDA_DRIVER_FUNCTIONS(QAF_SAME_SIGNATURE)
#undef QAF_SAME_SIGNATURE

} // namespace qaf::cuda
