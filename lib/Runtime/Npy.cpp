//===- Npy.cpp - numpy .npy tensor files ----------------------------------===//
//
// Part of qaf, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qaf/Runtime/Npy.h"
#include "qaf/Support/Error.h"

#include "qaf/Support/AtomicFile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

using namespace llvm;

namespace qaf {

namespace {

constexpr StringLiteral kMagic = "\x93NUMPY";
/// numpy aligns the data to 64 bytes (since 1.14) so it can be mapped and
/// loaded with vector instructions.
constexpr size_t kHeaderAlignment = 64;

/// The type letter and size of a dtype in numpy's `descr` (`f4`, `b1`).
std::pair<char, size_t> getDescrKind(DType dtype) {
  switch (dtype) {
  case DType::Float32:
  case DType::Float16:
  case DType::Float64:
    return {'f', getDTypeSize(dtype)};
  case DType::Int8:
  case DType::Int16:
  case DType::Int32:
  case DType::Int64:
    return {'i', getDTypeSize(dtype)};
  case DType::UInt8:
  case DType::UInt16:
  case DType::UInt32:
  case DType::UInt64:
    return {'u', getDTypeSize(dtype)};
  case DType::Bool:
    return {'b', 1};
  case DType::BFloat16:
    break;
  }
  return {'\0', 0};
}

/// A reader of the header's Python dict literal, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
class NpyHeaderParser {
public:
  explicit NpyHeaderParser(StringRef text) : rest(text) {}

  struct Header {
    std::string descr;
    bool fortranOrder = false;
    SmallVector<int64_t, 4> shape;
  };

  Expected<Header> parse() {
    Header header;
    bool seenDescr = false, seenOrder = false, seenShape = false;
    if (!consume('{'))
      return makeError("the header is not a Python dict");
    while (!consume('}')) {
      std::string key;
      if (!parseString(key))
        return makeError("expected a quoted key in the header");
      if (!consume(':'))
        return makeError("expected ':' after '" + key + "' in the header");
      if (key == "descr") {
        if (!parseString(header.descr))
          return makeError("unsupported descr: structured dtypes (a list) "
                           "are not supported, only plain numeric and bool "
                           "dtypes");
        seenDescr = true;
      } else if (key == "fortran_order") {
        if (consumeWord("True"))
          header.fortranOrder = true;
        else if (consumeWord("False"))
          header.fortranOrder = false;
        else
          return makeError("fortran_order is neither True nor False");
        seenOrder = true;
      } else if (key == "shape") {
        if (Error error = parseShape(header.shape))
          return std::move(error);
        seenShape = true;
      } else {
        return makeError("unknown header key '" + key + "'");
      }
      if (!consume(',')) {
        if (!consume('}'))
          return makeError("expected ',' or '}' in the header");
        break;
      }
    }
    skipSpace();
    if (!rest.empty())
      return makeError("unexpected text after the header dict");
    if (!seenDescr || !seenOrder || !seenShape)
      return makeError("the header lacks " + Twine(!seenDescr ? "'descr'"
                                                   : !seenOrder
                                                       ? "'fortran_order'"
                                                       : "'shape'"));
    return header;
  }

private:
  void skipSpace() { rest = rest.ltrim(" \t\r\n"); }

  bool consume(char c) {
    skipSpace();
    if (!rest.starts_with(StringRef(&c, 1)))
      return false;
    rest = rest.drop_front();
    return true;
  }

  bool consumeWord(StringRef word) {
    skipSpace();
    return rest.consume_front(word);
  }

  bool parseString(std::string &out) {
    skipSpace();
    if (rest.empty() || (rest.front() != '\'' && rest.front() != '"'))
      return false;
    char quote = rest.front();
    size_t end = rest.find(quote, 1);
    if (end == StringRef::npos)
      return false;
    out = rest.substr(1, end - 1).str();
    rest = rest.drop_front(end + 1);
    return true;
  }

  Error parseShape(SmallVectorImpl<int64_t> &shape) {
    if (!consume('('))
      return makeError("the shape is not a tuple");
    while (!consume(')')) {
      skipSpace();
      size_t digits = rest.find_first_not_of("0123456789");
      if (digits == 0 || rest.empty())
        return makeError("the shape must list non-negative integers");
      StringRef number = rest.take_front(digits);
      rest = rest.drop_front(number.size());
      // Python 2 wrote long integers with an `L` suffix.
      rest.consume_front("L");
      int64_t dim;
      if (number.getAsInteger(10, dim))
        return makeError("shape dimension '" + number + "' is too large");
      shape.push_back(dim);
      if (!consume(',')) {
        if (!consume(')'))
          return makeError("expected ',' or ')' in the shape");
        break;
      }
    }
    return Error::success();
  }

  StringRef rest;
};

/// The dtype of a numpy descr such as `<f4` or `|b1`.
Expected<DType> parseDescr(StringRef descr) {
  if (descr.size() < 2)
    return makeError("unsupported dtype '" + descr + "'");
  char order = descr.front();
  char kind = descr[1];
  if (kind == 'O')
    return makeError("object arrays ('" + descr + "') are not supported");
  if (kind == 'V')
    return makeError("void/raw dtype '" + descr +
                     "' is not supported (bfloat16 has no numpy dtype: pass "
                     "it as float32 or as a .pb file)");
  if (kind == 'U' || kind == 'S' || kind == 'a')
    return makeError("string dtype '" + descr + "' is not supported");
  unsigned size = 0;
  if (descr.drop_front(2).getAsInteger(10, size) ||
      (order != '<' && order != '>' && order != '|' && order != '='))
    return makeError("unsupported dtype '" + descr + "'");
  for (DType dtype : getAllDTypes()) {
    auto [descrKind, descrSize] = getDescrKind(dtype);
    if (descrKind != kind || descrSize != size)
      continue;
    // Byte order does not apply to single bytes ('|'); numpy accepts '<' or
    // '>' there too.
    if (order == '>' && size > 1)
      return makeError("big-endian dtype '" + descr +
                       "' is not supported (use "
                       "array.astype(array.dtype.newbyteorder('<')))");
    return dtype;
  }
  return makeError("unsupported dtype '" + descr + "'");
}

} // namespace

Expected<HostTensor> parseNpy(std::unique_ptr<MemoryBuffer> buffer,
                              StringRef sourceName) {
  auto fail = [&](const Twine &message) {
    return makeError(sourceName + ": " + message);
  };
  StringRef bytes = buffer->getBuffer();
  if (!bytes.starts_with(kMagic))
    return fail("not a .npy file (no \\x93NUMPY magic)");
  if (bytes.size() < kMagic.size() + 2)
    return fail("truncated .npy header");
  unsigned major = static_cast<uint8_t>(bytes[kMagic.size()]);
  unsigned minor = static_cast<uint8_t>(bytes[kMagic.size() + 1]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return fail("unsupported .npy version " + Twine(major) + "." +
                Twine(minor) + " (1.0, 2.0 and 3.0 are supported)");
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t lengthAt = kMagic.size() + 2;
  if (bytes.size() < lengthAt + lengthBytes)
    return fail("truncated .npy header");
  uint64_t headerLength =
      major == 1 ? support::endian::read16le(bytes.data() + lengthAt)
                 : support::endian::read32le(bytes.data() + lengthAt);
  uint64_t dataStart = lengthAt + lengthBytes + headerLength;
  if (dataStart > bytes.size())
    return fail("truncated: the header length is " + Twine(headerLength) +
                " bytes but the file has " +
                Twine(bytes.size() - lengthAt - lengthBytes) + " after it");

  StringRef headerText = bytes.slice(lengthAt + lengthBytes, dataStart);
  Expected<NpyHeaderParser::Header> header =
      NpyHeaderParser(headerText).parse();
  if (!header)
    return fail(toString(header.takeError()));
  Expected<DType> dtype = parseDescr(header->descr);
  if (!dtype)
    return fail(toString(dtype.takeError()));
  Expected<int64_t> count =
      getCheckedNumElements(header->shape, *dtype, "the array");
  if (!count)
    return fail(toString(count.takeError()));
  // A Fortran-order array of at most one non-unit dimension is also C order.
  if (header->fortranOrder &&
      llvm::count_if(header->shape, [](int64_t dim) { return dim > 1; }) > 1)
    return fail("Fortran-order arrays are not supported (save "
                "numpy.ascontiguousarray(array))");

  uint64_t expected = uint64_t(*count) * getDTypeSize(*dtype);
  uint64_t present = bytes.size() - dataStart;
  if (present != expected)
    return fail(Twine(present < expected ? "truncated: " : "") +
                "the data is " + Twine(present) + " bytes, but " +
                getDTypeName(*dtype) + formatShape(header->shape) + " needs " +
                Twine(expected));

  const char *data = bytes.data() + dataStart;
  std::shared_ptr<const void> keepAlive(std::move(buffer));
  return HostTensor::borrow(*dtype, header->shape, data, std::move(keepAlive));
}

Expected<HostTensor> readNpyFile(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> buffer = readTensorFile(path);
  if (!buffer)
    return buffer.takeError();
  return parseNpy(std::move(*buffer), path);
}

namespace {
/// The magic, version, length and padded dict of a .npy file holding a
/// tensor of `dtype` (which has a numpy dtype) and `shape`.
std::string makeNpyHeader(DType dtype, ArrayRef<int64_t> shape) {
  auto [kind, size] = getDescrKind(dtype);
  assert(kind && "dtype has a numpy equivalent");
  std::string header = "{'descr': '";
  header += size == 1 ? '|' : '<';
  header += kind;
  header += std::to_string(size);
  header += "', 'fortran_order': False, 'shape': (";
  for (int64_t dim : shape)
    header += std::to_string(dim) + ", ";
  // A one-element tuple needs its comma; others read better without.
  if (shape.size() > 1)
    header.resize(header.size() - 2);
  else if (shape.size() == 1)
    header.pop_back();
  header += "), }";

  // Version 1.0 stores the header length in 2 bytes.
  size_t prefixV1 = kMagic.size() + 2 + 2;
  unsigned major =
      alignTo(prefixV1 + header.size() + 1, kHeaderAlignment) - prefixV1 >
              0xffff
          ? 2
          : 1;
  size_t prefix = kMagic.size() + 2 + (major == 1 ? 2 : 4);
  size_t total = alignTo(prefix + header.size() + 1, kHeaderAlignment);
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';

  std::string bytes(kMagic);
  bytes += static_cast<char>(major);
  bytes += '\0';
  char length[4];
  support::endian::write32le(length, header.size());
  bytes.append(length, major == 1 ? 2 : 4);
  bytes += header;
  return bytes;
}
} // namespace

Error writeNpyFile(StringRef path, const HostTensor &tensor) {
  if (!getDescrKind(tensor.getDType()).first)
    return makeError("cannot write '" + path +
                     "': " + getDTypeName(tensor.getDType()) +
                     " has no numpy dtype (widen bfloat16 to float32 first)");
  Expected<std::unique_ptr<AtomicFile>> file = AtomicFile::create(path);
  if (!file)
    return file.takeError();
  (*file)->os() << makeNpyHeader(tensor.getDType(), tensor.getShape());
  ArrayRef<char> data = tensor.getBytes();
  (*file)->os().write(data.data(), data.size());
  return (*file)->commit();
}

} // namespace qaf
