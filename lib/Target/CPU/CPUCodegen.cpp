//===- CPUCodegen.cpp - LLVM dialect -> shared library --------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Target/CPU/CPUCodegen.h"
#include "qaf/Target/CPU/SplitLargeFunctions.h"

#include "qaf/Support/AtomicFile.h"
#include "qaf/Support/TemporaryFolder.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/IPO/MergeFunctions.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <atomic>
#include <thread>

#include "qaf/Target/CPU/BuildPaths.h"

using namespace mlir;

namespace qaf {

/// LLVM's post-register-allocation list scheduler is quadratic in the
/// length of a basic block, and a model's code has blocks of thousands of
/// instructions (reductions over constant extents that LLVM unrolls whole).
/// The CPU models that enable it (AMD Zen's) spent half of a 30-block
/// train_step's code generation in it; the out-of-order cores it schedules
/// for reorder such code themselves. Off unless a tool's user set the option
/// (the pass reads it only when its position is set, as a command line's is).
static void disablePostRAScheduler() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("post-RA-scheduler");
  if (it != options.end() && it->second->getNumOccurrences() == 0)
    (void)it->second->addOccurrence(/*pos=*/1, "post-RA-scheduler", "false");
}

static void initializeNativeTarget() {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    disablePostRAScheduler();
    return true;
  }();
  (void)initialized;
}

LogicalResult resolveCPUTarget(CPUTarget &target, Location loc) {
  initializeNativeTarget();
  target.triple = llvm::sys::getDefaultTargetTriple();
  if (target.cpu.empty() || target.cpu == "native") {
    target.cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures features;
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.first(), feature.second);
    target.features = features.getString();
    return success();
  }
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(llvm::Triple(target.triple), error);
  if (!llvmTarget)
    return emitError(loc) << "no LLVM target for " << target.triple << ": "
                          << error;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      llvm::Triple(target.triple), "", "", llvm::TargetOptions(),
      llvm::Reloc::PIC_));
  if (!machine->getMCSubtargetInfo()->isCPUStringValid(target.cpu))
    return emitError(loc) << "unknown CPU '" << target.cpu << "' for "
                          << target.triple
                          << " (use an LLVM CPU name such as x86-64-v3, "
                             "skylake-avx512, znver3, or 'native')";
  return success();
}

/// `int32_t qaf_entry_<name>(void **args)`: loads the descriptor pointers
/// from `args`, calls MLIR's C interface wrapper between qaf_call_begin and
/// qaf_call_end (include/qaf/Runtime/CPU/ErrorChannel.h) and returns the
/// call's status. After a failed check the outputs are freed and their
/// descriptors zeroed, so the caller never sees a half-written result.
static LogicalResult addPackedWrapper(llvm::Module &module,
                                      const EntryPointABI &entry,
                                      Location loc) {
  llvm::Function *cInterface = module.getFunction("_mlir_ciface_" + entry.name);
  llvm::Function *function = module.getFunction(entry.name);
  if (!cInterface || !function)
    return emitError(loc) << "entry point '" << entry.name
                          << "' has no C interface wrapper";
  llvm::LLVMContext &context = module.getContext();
  auto *pointerType = llvm::PointerType::get(context, 0);
  auto *statusType = llvm::Type::getInt32Ty(context);
  auto *int64Type = llvm::Type::getInt64Ty(context);
  auto *voidType = llvm::Type::getVoidTy(context);
  llvm::FunctionCallee callBegin = module.getOrInsertFunction(
      "qaf_call_begin", llvm::FunctionType::get(voidType, {}, false));
  llvm::FunctionCallee callEnd = module.getOrInsertFunction(
      "qaf_call_end", llvm::FunctionType::get(statusType, {}, false));
  llvm::FunctionCallee discardOutputs = module.getOrInsertFunction(
      "qaf_discard_outputs",
      llvm::FunctionType::get(voidType, {pointerType, int64Type}, false));

  auto *wrapperType = llvm::FunctionType::get(statusType, {pointerType}, false);
  auto *wrapper =
      llvm::Function::Create(wrapperType, llvm::GlobalValue::ExternalLinkage,
                             "qaf_entry_" + entry.name, module);
  llvm::IRBuilder<> builder(
      llvm::BasicBlock::Create(context, "entry", wrapper));
  SmallVector<llvm::Value *> args;
  // Without results the C interface has no result pointer; args[0] is
  // still reserved for it.
  unsigned first = entry.hasResults ? 0 : 1;
  for (unsigned i = 0; i < cInterface->arg_size(); ++i) {
    llvm::Value *slot =
        builder.CreateConstGEP1_64(pointerType, wrapper->getArg(0), first + i);
    args.push_back(builder.CreateLoad(pointerType, slot));
  }
  builder.CreateCall(callBegin);
  builder.CreateCall(cInterface, args);
  llvm::Value *status = builder.CreateCall(callEnd);
  if (!entry.hasResults) {
    builder.CreateRet(status);
    return success();
  }

  // The results: one memref descriptor ({ptr allocated, ptr aligned, ...}),
  // or a struct of them.
  auto *resultsType = dyn_cast<llvm::StructType>(function->getReturnType());
  if (!resultsType || resultsType->getNumElements() == 0)
    return emitError(loc) << "entry point '" << entry.name
                          << "' does not return memref descriptors";
  SmallVector<SmallVector<unsigned, 2>> allocatedFields;
  if (resultsType->getElementType(0)->isPointerTy())
    allocatedFields.push_back({0});
  else
    for (unsigned i = 0; i < resultsType->getNumElements(); ++i)
      allocatedFields.push_back({i, 0});

  llvm::BasicBlock *failed =
      llvm::BasicBlock::Create(context, "failed", wrapper);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(context, "done", wrapper);
  builder.CreateCondBr(
      builder.CreateICmpNE(status, llvm::ConstantInt::get(statusType, 0)),
      failed, done);
  builder.SetInsertPoint(failed);
  llvm::Value *results = args.front();
  auto *pointersType =
      llvm::ArrayType::get(pointerType, allocatedFields.size());
  llvm::Value *pointers = builder.CreateAlloca(pointersType);
  for (auto [i, field] : llvm::enumerate(allocatedFields)) {
    SmallVector<llvm::Value *> indices = {builder.getInt32(0)};
    for (unsigned index : field)
      indices.push_back(builder.getInt32(index));
    llvm::Value *allocated = builder.CreateLoad(
        pointerType, builder.CreateGEP(resultsType, results, indices));
    builder.CreateStore(
        allocated, builder.CreateConstGEP2_32(pointersType, pointers, 0, i));
  }
  builder.CreateCall(discardOutputs,
                     {pointers, builder.getInt64(allocatedFields.size())});
  builder.CreateMemSet(
      results, builder.getInt8(0),
      module.getDataLayout().getTypeAllocSize(resultsType).getFixedValue(),
      llvm::MaybeAlign(8));
  builder.CreateBr(done);
  builder.SetInsertPoint(done);
  builder.CreateRet(status);
  return success();
}

/// The exported C strings through which the library identifies itself.
static constexpr llvm::StringLiteral kFingerprintSymbol =
    "qaf_artifact_fingerprint";
static constexpr llvm::StringLiteral kLibraryABISymbol = "qaf_artifact_abi";

/// `const char name[] = "text";`, exported.
static void addExportedString(llvm::Module &module, StringRef name,
                              StringRef text) {
  llvm::Constant *value =
      llvm::ConstantDataArray::getString(module.getContext(), text);
  new llvm::GlobalVariable(module, value->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, value, name);
}

static std::string findLinker();

/// The length of the pieces the entry points are cut into (in instructions
/// of the unoptimized module): long enough that the calls between pieces
/// cost nothing next to the work they do, short enough that LLVM's
/// superlinear passes stay cheap on each.
static constexpr unsigned kPieceInstructions = 2000;

/// Keeps one copy of each set of identical functions. A decoder's blocks
/// are alike, so most of the loops outlined from one block (and their
/// OpenMP bodies) repeat in every other: without merging, LLVM optimizes
/// and compiles each copy, most of a deep model's compile time. No code
/// compares the addresses of the functions inside the library, so they
/// are unnamed_addr: the callers of a copy then call the kept function
/// (and become identical in turn), and a copy left only for its name is a
/// one-call thunk.
static void mergeIdenticalFunctions(llvm::Module &module) {
  for (llvm::Function &function : module)
    if (!function.isDeclaration() &&
        (function.hasLocalLinkage() ||
         function.getVisibility() == llvm::GlobalValue::HiddenVisibility))
      function.setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  llvm::MergeFunctionsPass::runOnModule(module);
}

/// Renames the finished `temp` to `outputPath`; from another file system
/// (the compile's temporary folder) it is copied through an AtomicFile beside
/// `outputPath`, keeping its permissions.
static LogicalResult moveIntoPlace(StringRef temp, StringRef outputPath,
                                   Location loc) {
  std::error_code ec = llvm::sys::fs::rename(temp, outputPath);
  if (!ec)
    return success();
  if (ec != std::errc::cross_device_link)
    return emitError(loc) << "cannot write " << outputPath << ": "
                          << ec.message();
  auto removeTemp = llvm::scope_exit([&] { llvm::sys::fs::remove(temp); });
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> contents =
      llvm::MemoryBuffer::getFile(temp, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!contents)
    return emitError(loc) << "cannot read " << temp << ": "
                          << contents.getError().message();
  auto file = AtomicFile::create(outputPath);
  if (!file)
    return emitError(loc) << llvm::toString(file.takeError());
  (*file)->os() << (*contents)->getBuffer();
  if (llvm::Error err = (*file)->commit())
    return emitError(loc) << llvm::toString(std::move(err));
  if (llvm::ErrorOr<llvm::sys::fs::perms> permissions =
          llvm::sys::fs::getPermissions(temp))
    llvm::sys::fs::setPermissions(outputPath, *permissions);
  return success();
}

/// Runs the linker `arguments` (its output is `temp`), then moves `temp`
/// to `outputPath` (moveIntoPlace): a failed link leaves nothing behind. `what`
/// says what the link was for in the message.
static LogicalResult runLinker(ArrayRef<StringRef> arguments, StringRef temp,
                               StringRef outputPath, const Twine &what,
                               Location loc) {
  std::string message;
  llvm::sys::RemoveFileOnSignal(temp);
  auto forgetTemp =
      llvm::scope_exit([&] { llvm::sys::DontRemoveFileOnSignal(temp); });
  int status =
      llvm::sys::ExecuteAndWait(arguments.front(), arguments, std::nullopt, {},
                                /*SecondsToWait=*/300, 0, &message);
  if (status != 0) {
    llvm::sys::fs::remove(temp);
    return emitError(loc) << what << " with " << arguments.front()
                          << " failed (status " << status << ")"
                          << (message.empty() ? "" : ": ") << message;
  }
  return moveIntoPlace(temp, outputPath, loc);
}

/// A target machine for `target` (its triple, CPU and features resolved).
static std::unique_ptr<llvm::TargetMachine>
createMachine(const CPUTarget &target, std::string &error) {
  llvm::Triple triple(target.triple);
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return nullptr;
  return std::unique_ptr<llvm::TargetMachine>(llvmTarget->createTargetMachine(
      triple, target.cpu, target.features, llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt,
      static_cast<llvm::CodeGenOptLevel>(std::min(target.optLevel, 3u))));
}

/// Object code of a module on `threadCount` threads: LLVM's optimization
/// and machine code generation are most of a model's compile time and run
/// one function at a time, so the functions are split into parts (each in
/// its own LLVMContext, passed as bitcode) that the threads take in turn,
/// and the parts joined into one relocatable object. The split goes by
/// name, not by cost, so there are several parts per thread: a thread that
/// drew cheap parts takes more. A model is one entry point calling a
/// thousand small loop functions once each; inlining them back across parts
/// would gain nothing.
static LogicalResult emitObjectInParallel(llvm::Module &module,
                                          const CPUTarget &target,
                                          unsigned threadCount,
                                          StringRef outputPath, Location loc) {
  constexpr unsigned kPartsPerThread = 4;
  unsigned parts = threadCount * kPartsPerThread;
  // Splitting makes local symbols external so the parts can refer to each
  // other; hidden visibility keeps them out of the library's exports.
  llvm::StringSet<> locals;
  for (llvm::GlobalValue &value : module.global_values())
    if (value.hasLocalLinkage() && value.hasName())
      locals.insert(value.getName());
  std::vector<SmallString<0>> bitcodes;
  llvm::SplitModule(module, parts, [&](std::unique_ptr<llvm::Module> part) {
    for (llvm::GlobalValue &value : part->global_values())
      if (!value.hasLocalLinkage() &&
          (locals.contains(value.getName()) ||
           value.getName().starts_with("__llvmsplit_unnamed")))
        value.setVisibility(llvm::GlobalValue::HiddenVisibility);
    SmallString<0> bitcode;
    llvm::raw_svector_ostream os(bitcode);
    llvm::WriteBitcodeToFile(*part, os);
    bitcodes.push_back(std::move(bitcode));
  });
  // The parts' object code goes to a temporary folder of its own, never
  // the output's: removed when this returns, and by the next compile when
  // this one is killed.
  llvm::Expected<std::unique_ptr<TemporaryFolder>> folder =
      TemporaryFolder::create(kCompileFolderPrefix);
  if (!folder)
    return emitError(loc) << llvm::toString(folder.takeError());
  std::vector<std::string> objects, errors(bitcodes.size());
  for (size_t i = 0; i < bitcodes.size(); ++i)
    objects.push_back((*folder)->file("part" + std::to_string(i) + ".o"));
  auto compilePart = [&](size_t i) {
    llvm::LLVMContext context;
    llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(StringRef(bitcodes[i].data(), bitcodes[i].size()),
                              "part"),
        context);
    if (!part) {
      errors[i] = llvm::toString(part.takeError());
      return;
    }
    std::unique_ptr<llvm::TargetMachine> machine =
        createMachine(target, errors[i]);
    if (!machine)
      return;
    auto optimize = makeOptimizingTransformer(target.optLevel,
                                              /*sizeLevel=*/0, machine.get());
    if (llvm::Error error = optimize(part->get())) {
      errors[i] = "optimization failed: " + llvm::toString(std::move(error));
      return;
    }
    std::error_code ec;
    llvm::raw_fd_ostream os(objects[i], ec);
    if (ec) {
      errors[i] = "cannot write " + objects[i] + ": " + ec.message();
      return;
    }
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                     llvm::CodeGenFileType::ObjectFile)) {
      errors[i] = "the target cannot emit object files";
      return;
    }
    codegen.run(**part);
    os.close();
    // A failed write is reported here, not by the stream's destructor
    // (which would abort the process from this thread).
    if (os.has_error()) {
      errors[i] = "cannot write " + objects[i] + ": " + os.error().message();
      os.clear_error();
    }
  };
  std::atomic<size_t> nextPart = 0;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < threadCount; ++t)
    threads.emplace_back([&] {
      for (size_t i = nextPart++; i < bitcodes.size(); i = nextPart++)
        compilePart(i);
    });
  for (std::thread &thread : threads)
    thread.join();
  for (const std::string &error : errors)
    if (!error.empty())
      return emitError(loc) << "code generation failed: " << error;
  // One relocatable object, written beside its destination and renamed.
  SmallString<256> temp(outputPath);
  temp += ".tmp-relocatable";
  std::string linker = findLinker();
  SmallVector<StringRef> args = {linker, "-r", "-o", temp};
  for (const std::string &object : objects)
    args.push_back(object);
  return runLinker(args, temp, outputPath, "joining the object parts", loc);
}

LogicalResult emitCPUCode(ModuleOp module, const CPUTarget &target,
                          ArrayRef<EntryPointABI> entryPoints,
                          StringRef fingerprint, StringRef libraryABI,
                          StringRef outputPath, bool emitLLVMIR,
                          TimingScope *timing) {
  auto nest = [&](StringRef name) {
    return timing ? timing->nest(name) : TimingScope();
  };
  Location loc = module.getLoc();
  initializeNativeTarget();
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module->getContext()->appendDialectRegistry(registry);

  llvm::LLVMContext llvmContext;
  TimingScope translateScope = nest("translate");
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "qaf_model");
  translateScope.stop();
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";

  std::string error;
  llvm::Triple triple(target.triple);
  std::unique_ptr<llvm::TargetMachine> machine = createMachine(target, error);
  if (!machine)
    return emitError(loc) << "no LLVM target for " << target.triple << ": "
                          << error;
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  // Every function is compiled for the target CPU: this is what lets the
  // vectorizers use AVX2/AVX-512.
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", target.cpu);
    if (!target.features.empty())
      function.addFnAttr("target-features", target.features);
  }

  for (const EntryPointABI &entry : entryPoints)
    if (failed(addPackedWrapper(*llvmModule, entry, loc)))
      return failure();
  // The wrappers around an entry point only move its arguments (thousands
  // for a deep model: seven words per buffer) into one call. Instruction
  // selection of such a call is quadratic in its argument count (seconds
  // per wrapper at 8 blocks, on one thread, where the rest of the code is
  // split among the threads), and optimizing it gains nothing: they are
  // compiled as they are.
  for (llvm::Function &function : *llvmModule)
    if (!function.isDeclaration() &&
        (function.getName().starts_with("_mlir_ciface_") ||
         function.getName().starts_with("qaf_entry_"))) {
      function.addFnAttr(llvm::Attribute::NoInline);
      function.addFnAttr(llvm::Attribute::OptimizeNone);
    }
  addExportedString(*llvmModule, kFingerprintSymbol, fingerprint);
  addExportedString(*llvmModule, kLibraryABISymbol, libraryABI);

  // The library's interface is its entry points, fingerprint and
  // description (docs/artifact-abi.md); everything else stays inside it.
  for (llvm::GlobalValue &value : llvmModule->global_values())
    if (!value.isDeclaration() && !value.hasLocalLinkage() &&
        !value.getName().starts_with("qaf_entry_") &&
        value.getName() != kFingerprintSymbol &&
        value.getName() != kLibraryABISymbol)
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);

  TimingScope mergeScope = nest("merge identical functions");
  mergeIdenticalFunctions(*llvmModule);
  mergeScope.stop();

  // The entry points of a deep model are one long sequence of calls with
  // their checks; LLVM's time on a function grows faster than its length.
  TimingScope splitScope = nest("split large functions");
  splitLargeFunctions(*llvmModule, kPieceInstructions);
  splitScope.stop();

  // Large modules are optimized and compiled to machine code on every core.
  unsigned threadCount =
      std::min(std::max(std::thread::hardware_concurrency(), 1u), 8u);
  unsigned definedFunctions = 0;
  for (llvm::Function &function : *llvmModule)
    definedFunctions += !function.isDeclaration();
  if (!emitLLVMIR && threadCount > 1 && definedFunctions >= 64) {
    TimingScope parallelScope = nest("optimize+emit (parallel)");
    return emitObjectInParallel(*llvmModule, target, threadCount, outputPath,
                                loc);
  }

  auto optimize = makeOptimizingTransformer(target.optLevel, /*sizeLevel=*/0,
                                            machine.get());
  TimingScope optimizeScope = nest("optimize");
  if (llvm::Error err = optimize(llvmModule.get()))
    return emitError(loc) << "LLVM optimization failed: "
                          << llvm::toString(std::move(err));

  optimizeScope.stop();
  TimingScope emitScope = nest("emit");
  auto file = AtomicFile::create(outputPath);
  if (!file)
    return emitError(loc) << llvm::toString(file.takeError());
  if (emitLLVMIR) {
    llvmModule->print((*file)->os(), nullptr);
  } else {
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, (*file)->os(), nullptr,
                                     llvm::CodeGenFileType::ObjectFile))
      return emitError(loc) << "the target cannot emit object files";
    codegen.run(*llvmModule);
  }
  if (llvm::Error err = (*file)->commit())
    return emitError(loc) << llvm::toString(std::move(err));
  return success();
}

/// The C compiler driver used as linker: clang from the LLVM 22 suite.
static std::string findLinker() {
  for (const char *name : {"clang-22", "clang"})
    if (auto path = llvm::sys::findProgramByName(name))
      return *path;
  return "/usr/lib/llvm-22/bin/clang";
}

LogicalResult linkSharedLibrary(StringRef objectPath, StringRef outputPath,
                                Location loc) {
  std::string kernels = getCPUKernelsLibraryPath();
  if (!llvm::sys::fs::exists(kernels))
    return emitError(loc) << "qaf's CPU kernel library is missing: " << kernels;
  // Linked beside the object, in the compile's temporary folder (where a
  // killed compile's output is removed by the next one), then moved into
  // place.
  SmallString<256> temp(llvm::sys::path::parent_path(objectPath));
  llvm::sys::path::append(temp, llvm::sys::path::filename(outputPath));
  if (temp == outputPath)
    temp += ".tmp-link";
  std::string linker = findLinker();
  std::string openmpDir = getOpenMPLibraryDir();
  std::string rpath = "-Wl,-rpath," + openmpDir;
  std::string libDir = "-L" + openmpDir;
  SmallVector<StringRef> args = {
      linker, "-shared", "-o",  temp,  objectPath, kernels,
      libDir, "-lomp",   rpath, "-lm", "-lstdc++", "-Wl,--no-undefined"};
  return runLinker(args, temp, outputPath, "linking " + outputPath, loc);
}

} // namespace qaf
