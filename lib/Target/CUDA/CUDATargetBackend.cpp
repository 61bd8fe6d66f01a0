//===- CUDATargetBackend.cpp - the `cuda` target --------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Target/CUDA/CUDATargetBackend.h"

#include "qaf/Compiler/ArtifactWriter.h"
#include "qaf/Support/AtomicFile.h"
#include "qaf/Target/CPU/CPUCodegen.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

using namespace mlir;

namespace qaf {

/// The host code only launches kernels and moves descriptors: it is
/// compiled for the baseline x86-64 CPU, so the artifact runs on any host
/// of its GPU.
static constexpr llvm::StringLiteral kHostCPU = "x86-64";

/// The exported C strings through which the library identifies itself, as
/// in a cpu artifact (docs/artifact-abi.md).
static constexpr llvm::StringLiteral kArtifactFingerprintSymbol =
    "qaf_artifact_fingerprint";
static constexpr llvm::StringLiteral kArtifactABISymbol = "qaf_artifact_abi";
static constexpr llvm::StringLiteral kLastErrorSymbol = "qaf_last_error";

/// Defines `const char *qaf_last_error(void)` returning "": the runtime
/// binds it in every library, and a cuda entry point has no run-time
/// checks, so it always returns 0 and never has a message to give.
static void addEmptyLastError(llvm::Module &module) {
  llvm::LLVMContext &context = module.getContext();
  auto *type =
      llvm::FunctionType::get(llvm::PointerType::get(context, 0), false);
  auto *function = llvm::Function::Create(
      type, llvm::GlobalValue::ExternalLinkage, kLastErrorSymbol, module);
  llvm::Constant *text = llvm::ConstantDataArray::getString(context, "");
  auto *empty = new llvm::GlobalVariable(
      module, text->getType(), /*isConstant=*/true,
      llvm::GlobalValue::PrivateLinkage, text, "qaf_no_error");
  llvm::IRBuilder<> builder(
      llvm::BasicBlock::Create(context, "entry", function));
  builder.CreateRet(empty);
}

CUDATargetBackend::CUDATargetBackend(const TargetOptions &options)
    : options(options) {}

LogicalResult CUDATargetBackend::initialize(Location loc) {
  arch = lookupCUDAArch(options.cudaArch);
  if (!arch) {
    StringRef version = options.cudaArch;
    unsigned number = 0;
    if (version.consume_front("sm_") && !version.getAsInteger(10, number) &&
        number < 80)
      return emitError(loc)
             << "--cuda-arch=" << options.cudaArch
             << ": the CUDA target needs sm_80 or newer (tf32/bf16 tensor "
                "cores; CUDA 13 no longer compiles for sm_70 and older); "
                "supported: "
             << getCUDAArchList();
    return emitError(loc) << "--cuda-arch=" << options.cudaArch
                          << ": unknown CUDA architecture (supported: "
                          << getCUDAArchList() << ")";
  }
  if (!isCUDAMatmulPrecision(options.cudaMatmulPrecision))
    return emitError(loc) << "--cuda-matmul-precision="
                          << options.cudaMatmulPrecision
                          << ": must be tf32 or bf16";
  SmallString<128> ptxas(options.cudaToolkit);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  if (!llvm::sys::fs::can_execute(ptxas))
    return emitError(loc) << "ptxas not found at " << ptxas
                          << ": the CUDA target assembles its kernels with "
                             "the CUDA toolkit's ptxas (--cuda-toolkit=<dir> "
                             "names another toolkit)";
  return success();
}

void CUDATargetBackend::buildPipeline(OpPassManager &pm, Phase from,
                                      Phase to) const {
  CUDAPipelineOptions pipeline;
  pipeline.from = from;
  pipeline.to = to;
  pipeline.arch = options.cudaArch;
  pipeline.matmulPrecision = options.cudaMatmulPrecision;
  pipeline.toolkit = options.cudaToolkit;
  buildCUDAPipeline(pm, pipeline);
}

bool CUDATargetBackend::fusesAttention() const {
  return PassInfo::lookup(kCUDAKernelsPassName) != nullptr;
}

/// `int32_t qaf_entry_<name>(void **args)`: loads the descriptor pointers
/// from `args` and calls MLIR's C interface wrapper. A cuda entry point
/// has no run-time checks, so its status is always 0.
static LogicalResult addEntryWrapper(llvm::Module &module,
                                     const EntryPointABI &entry, Location loc) {
  llvm::Function *cInterface = module.getFunction("_mlir_ciface_" + entry.name);
  if (!cInterface)
    return emitError(loc) << "entry point '" << entry.name
                          << "' has no C interface wrapper";
  llvm::LLVMContext &context = module.getContext();
  auto *pointerType = llvm::PointerType::get(context, 0);
  auto *statusType = llvm::Type::getInt32Ty(context);
  auto *wrapper = llvm::Function::Create(
      llvm::FunctionType::get(statusType, {pointerType}, false),
      llvm::GlobalValue::ExternalLinkage, "qaf_entry_" + entry.name, module);
  llvm::IRBuilder<> builder(
      llvm::BasicBlock::Create(context, "entry", wrapper));
  SmallVector<llvm::Value *> args;
  // Without results args[0] is still reserved for them.
  unsigned first = entry.hasResults ? 0 : 1;
  for (unsigned i = 0; i < cInterface->arg_size(); ++i)
    args.push_back(builder.CreateLoad(
        pointerType, builder.CreateConstGEP1_64(pointerType, wrapper->getArg(0),
                                                first + i)));
  builder.CreateCall(cInterface, args);
  builder.CreateRet(llvm::ConstantInt::get(statusType, 0));
  return success();
}

LogicalResult CUDATargetBackend::emit(ModuleOp module,
                                      ArrayRef<EntryPointABI> entryPoints,
                                      StringRef fingerprint,
                                      StringRef libraryABI, Phase phase,
                                      StringRef outputPath,
                                      TimingScope *timing) const {
  assert((phase == Phase::LLVMIR || phase == Phase::Object) &&
         "code generation writes LLVM IR or an object");
  Location loc = module.getLoc();
  CPUTarget host;
  host.cpu = kHostCPU.str();
  host.optLevel = options.optLevel;
  if (failed(resolveCPUTarget(host, loc)))
    return failure();
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module->getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext llvmContext;
  TimingScope translateScope =
      timing ? timing->nest("translate") : TimingScope();
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "qaf_model");
  translateScope.stop();
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";

  llvm::Triple triple(host.triple);
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return emitError(loc) << "no LLVM target for " << host.triple << ": "
                          << error;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, host.cpu, "", llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt,
      static_cast<llvm::CodeGenOptLevel>(std::min(options.optLevel, 3u))));
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  for (const EntryPointABI &entry : entryPoints)
    if (failed(addEntryWrapper(*llvmModule, entry, loc)))
      return failure();
  for (auto [name, text] : {std::pair<StringRef, StringRef>{
                                kArtifactFingerprintSymbol, fingerprint},
                            {kArtifactABISymbol, libraryABI}}) {
    llvm::Constant *value =
        llvm::ConstantDataArray::getString(llvmContext, text);
    new llvm::GlobalVariable(*llvmModule, value->getType(),
                             /*isConstant=*/true,
                             llvm::GlobalValue::ExternalLinkage, value, name);
  }
  addEmptyLastError(*llvmModule);
  // The library's interface is its entry points, fingerprint and
  // description, and the error channel's message (docs/artifact-abi.md).
  for (llvm::GlobalValue &value : llvmModule->global_values())
    if (!value.isDeclaration() && !value.hasLocalLinkage() &&
        !value.getName().starts_with("qaf_entry_") &&
        value.getName() != kArtifactFingerprintSymbol &&
        value.getName() != kArtifactABISymbol &&
        value.getName() != kLastErrorSymbol)
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);

  auto optimize = makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0,
                                            machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return emitError(loc) << "LLVM optimization failed: "
                          << llvm::toString(std::move(err));
  auto file = AtomicFile::create(outputPath);
  if (!file)
    return emitError(loc) << llvm::toString(file.takeError());
  if (phase == Phase::LLVMIR) {
    llvmModule->print((*file)->os(), nullptr);
  } else {
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, (*file)->os(), nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return emitError(loc) << "the host target cannot emit object files";
    codegen.run(*llvmModule);
  }
  if (llvm::Error err = (*file)->commit())
    return emitError(loc) << llvm::toString(std::move(err));
  return success();
}

LogicalResult CUDATargetBackend::link(StringRef objectPath,
                                      StringRef libraryPath,
                                      Location loc) const {
  // The mgpu* functions stay undefined: the runtime loads
  // libQAFCudaRuntime.so with RTLD_GLOBAL before the library. Linked beside
  // the destination and renamed, so a failed link leaves nothing behind.
  std::string linker = "/usr/lib/llvm-22/bin/clang";
  for (const char *name : {"clang-22", "clang"})
    if (llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName(name)) {
      linker = *path;
      break;
    }
  std::string temp = (libraryPath + ".tmp-link").str();
  SmallVector<StringRef> args = {linker, "-shared",  "-o",
                                 temp,   objectPath, "-lm"};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(linker, args, std::nullopt, {},
                                         /*SecondsToWait=*/300, 0, &message);
  if (status != 0) {
    llvm::sys::fs::remove(temp);
    return emitError(loc) << "linking " << libraryPath << " with " << linker
                          << " failed (status " << status << ")"
                          << (message.empty() ? "" : ": ") << message;
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, libraryPath)) {
    llvm::sys::fs::remove(temp);
    return emitError(loc) << "cannot write " << libraryPath << ": "
                          << ec.message();
  }
  return success();
}

void CUDATargetBackend::describeTarget(ArtifactDescription &description) const {
  // The whole record: a stage compiled for the CPU leaves nothing of it
  // (its CPU name and features).
  TargetDescription &record = description.manifest.target;
  record = TargetDescription();
  record.kind = TargetKind::CUDA;
  record.binary = BinaryKind::Cubin;
  record.triple = "nvptx64-nvidia-cuda";
  record.arch = arch->chip.str();
  record.ptxISA = arch->ptxISA.str();
  record.matmulPrecision = options.cudaMatmulPrecision;
}

void registerCUDATargetBackend() {
  registerTargetBackend(
      "cuda",
      "NVIDIA GPUs (--cuda-arch, --cuda-matmul-precision): kernels as an "
      "embedded cubin, qaf's CUDA runtime",
      [](const TargetOptions &options) {
        return std::make_unique<CUDATargetBackend>(options);
      });
}

} // namespace qaf
