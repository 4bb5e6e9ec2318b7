/// One tensor's entry in the GGUF tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions in ggml order: `dimensions[0]` is the innermost, contiguous one. A GGUF matrix
    /// with dimensions `[in, out]` therefore holds `out` rows of `in` values each.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the tensor's data in the file.
    public let fileOffset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A parsed GGUF file (versions 2 and 3): header, metadata, tensor table, and access to the tensor
/// data through a read-only memory mapping. Parsing is strict: anything inconsistent is a typed
/// `GGUFError` naming the file and the field, never a crash.
///
/// Not Sendable: it is meant to be opened, read into a model, and dropped on one thread.
public final class GGUFFile {
    public let path: String
    public let version: UInt32
    /// Metadata in the order the file lists it.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment` or the default of 32.
    public let alignment: Int
    /// Absolute offset where tensor data begins (tensor offsets are relative to it in the file).
    public let dataOffset: Int
    public var fileSize: Int { mapping.bytes.count }

    private let mapping: MappedFile
    private let tensorIndex: [String: Int]

    static let magic: [UInt8] = Array("GGUF".utf8)
    static let defaultAlignment = 32
    static let maxDimensions = 4
    private static let maxArrayNesting = 16

    public init(path: String) throws(GGUFError) {
        let mapping = try MappedFile(path: path)
        self.mapping = mapping
        self.path = path
        var r = GGUFByteReader(bytes: mapping.bytes, file: path)

        let magic = [try r.u8("magic"), try r.u8("magic"), try r.u8("magic"), try r.u8("magic")]
        guard magic == GGUFFile.magic else { throw GGUFError(file: path, .badMagic(found: magic)) }
        version = try r.u32("version")
        guard version == 2 || version == 3 else { throw GGUFError(file: path, .unsupportedVersion(version)) }
        let tensorCount = try r.u64("tensor_count")
        let kvCount = try r.u64("metadata_kv_count")
        // Counts come from the file: they only bound loops that fail with "truncated" when the
        // bytes run out, and never size an allocation beyond what the remaining bytes could hold
        // (a key-value pair takes at least 13 bytes, a tensor entry at least 24).
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        keys.reserveCapacity(Int(min(kvCount, UInt64(r.remaining / 13))))
        for i in 0..<kvCount {
            let key = try r.string("metadata key #\(i)")
            let rawType = try r.u32("type of '\(key)'")
            let value = try GGUFFile.readValue(&r, rawType: rawType, key: key, depth: 0)
            guard values.updateValue(value, forKey: key) == nil else {
                throw GGUFError(file: path, .duplicate(name: key))
            }
            keys.append(key)
        }
        metadataKeys = keys
        metadata = values

        var alignment = GGUFFile.defaultAlignment
        if let a = values["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0 else {
                if case let .uint32(raw) = a { throw GGUFError(file: path, .invalidAlignment(UInt64(raw))) }
                throw GGUFError(file: path, .invalidMetadata(key: "general.alignment", expected: "uint32 power of two", found: a.summary))
            }
            alignment = v
        }
        self.alignment = alignment

        struct RawTensor { var name: String; var dims: [Int]; var type: GGMLType; var offset: UInt64 }
        var raw: [RawTensor] = []
        raw.reserveCapacity(Int(min(tensorCount, UInt64(r.remaining / 24))))
        var index: [String: Int] = [:]
        for i in 0..<tensorCount {
            let name = try r.string("name of tensor #\(i)")
            let nDims = try r.u32("dimension count of '\(name)'")
            guard (1...UInt32(GGUFFile.maxDimensions)).contains(nDims) else {
                throw GGUFError(file: path, .invalidTensorInfo(tensor: name, reason: "\(nDims) dimensions (1...4 allowed)"))
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let n = try r.u64("dimension \(d) of '\(name)'")
                guard n > 0, n <= UInt64(Int32.max) else {
                    throw GGUFError(file: path, .invalidTensorInfo(tensor: name, reason: "dimension \(d) is \(n)"))
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(n))
                guard !overflow, product <= Int(Int32.max) * 16 else {
                    throw GGUFError(file: path, .invalidTensorInfo(tensor: name, reason: "too many elements"))
                }
                elements = product
                dims.append(Int(n))
            }
            let rawType = try r.u32("type of '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError(file: path, .unsupportedTensorType(tensor: name, type: GGMLType.name(ofRawType: rawType)))
            }
            guard dims[0] % type.blockSize == 0 else {
                throw GGUFError(file: path, .invalidTensorInfo(
                    tensor: name, reason: "innermost dimension \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)"))
            }
            let offset = try r.u64("data offset of '\(name)'")
            guard index.updateValue(raw.count, forKey: name) == nil else {
                throw GGUFError(file: path, .duplicate(name: name))
            }
            raw.append(RawTensor(name: name, dims: dims, type: type, offset: offset))
        }
        tensorIndex = index

        let headerEnd = r.offset
        let dataStart = (headerEnd + alignment - 1) / alignment * alignment
        dataOffset = dataStart
        let fileSize = mapping.bytes.count
        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(raw.count)
        for t in raw {
            let elements = t.dims.reduce(1, *)
            let byteCount = elements / t.type.blockSize * t.type.blockBytes
            guard t.offset % UInt64(alignment) == 0 else {
                throw GGUFError(file: path, .invalidTensorInfo(tensor: t.name, reason: "data offset \(t.offset) is not a multiple of the alignment \(alignment)"))
            }
            guard t.offset <= UInt64(fileSize), dataStart + Int(t.offset) + byteCount <= fileSize else {
                throw GGUFError(file: path, .tensorOutOfBounds(
                    tensor: t.name, start: dataStart + Int(clamping: min(t.offset, UInt64(Int.max / 2))), byteCount: byteCount, fileSize: fileSize))
            }
            infos.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type,
                                        fileOffset: dataStart + Int(t.offset), byteCount: byteCount))
        }
        tensors = infos
    }

    private static func readValue(_ r: inout GGUFByteReader, rawType: UInt32, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw GGUFError(file: r.file, .invalidValueType(key: key, rawType: rawType))
        }
        return try readValue(&r, type: type, key: key, depth: depth)
    }

    private static func readValue(_ r: inout GGUFByteReader, type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try r.u8(key))
        case .int8: return .int8(Int8(bitPattern: try r.u8(key)))
        case .uint16: return .uint16(try r.u16(key))
        case .int16: return .int16(Int16(bitPattern: try r.u16(key)))
        case .uint32: return .uint32(try r.u32(key))
        case .int32: return .int32(Int32(bitPattern: try r.u32(key)))
        case .uint64: return .uint64(try r.u64(key))
        case .int64: return .int64(Int64(bitPattern: try r.u64(key)))
        case .float32: return .float32(Float(bitPattern: try r.u32(key)))
        case .float64: return .float64(Double(bitPattern: try r.u64(key)))
        case .bool:
            let b = try r.u8(key)
            guard b <= 1 else { throw GGUFError(file: r.file, .invalidMetadata(key: key, expected: "bool (0 or 1)", found: "byte \(b)")) }
            return .bool(b == 1)
        case .string: return .string(try r.string(key))
        case .array:
            guard depth < maxArrayNesting else {
                throw GGUFError(file: r.file, .arrayNestingTooDeep(key: key))
            }
            let rawElement = try r.u32("element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawElement) else {
                throw GGUFError(file: r.file, .invalidValueType(key: key, rawType: rawElement))
            }
            let count = try r.u64("length of '\(key)'")
            let minimumSize: Int = switch elementType {
            case .uint8, .int8, .bool: 1
            case .uint16, .int16: 2
            case .uint32, .int32, .float32: 4
            case .uint64, .int64, .float64, .string: 8
            case .array: 12
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(min(count, UInt64(r.remaining / minimumSize))))
            for _ in 0..<count {
                items.append(try readValue(&r, type: elementType, key: key, depth: depth + 1))
            }
            return .array(elementType: elementType, items)
        }
    }

    // MARK: - Tensors

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's values converted to fp32 (row-major in ggml order: innermost dimension first).
    public func floats(_ tensor: GGUFTensorInfo) -> [Float] {
        [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            dequantize(tensor, into: buffer)
            initialized = tensor.elementCount
        }
    }

    /// Dequantizes `tensor` into `destination`, which must hold exactly `tensor.elementCount` floats.
    func dequantize(_ tensor: GGUFTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(destination.count == tensor.elementCount, "destination size is the caller's responsibility")
        // Invariant: `init` checked that [fileOffset, fileOffset + byteCount) lies inside the mapping.
        let source = UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.fileOffset..<(tensor.fileOffset + tensor.byteCount)])
        Dequantize.run(tensor.type, source: source, into: destination)
    }

    /// The tensor's stored bytes (valid while this file is open): the blocks a `QuantizedMatrix`
    /// repacks without widening them to fp32.
    func withRawBytes<R>(_ tensor: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // Invariant: `init` checked that [fileOffset, fileOffset + byteCount) lies inside the mapping.
        body(UnsafeRawBufferPointer(rebasing: mapping.bytes[tensor.fileOffset..<(tensor.fileOffset + tensor.byteCount)]))
    }

    // MARK: - Metadata accessors with typed errors

    public func requiredValue(_ key: String) throws(GGUFError) -> GGUFValue {
        guard let v = metadata[key] else { throw GGUFError(file: path, .missingMetadata(key: key)) }
        return v
    }

    public func requiredInt(_ key: String) throws(GGUFError) -> Int {
        let v = try requiredValue(key)
        guard v.type != .bool, let i = v.intValue else {
            throw GGUFError(file: path, .invalidMetadata(key: key, expected: "an integer", found: v.summary))
        }
        return i
    }

    public func optionalInt(_ key: String) throws(GGUFError) -> Int? {
        metadata[key] == nil ? nil : try requiredInt(key)
    }

    public func requiredDouble(_ key: String) throws(GGUFError) -> Double {
        let v = try requiredValue(key)
        guard let d = v.doubleValue, v.type != .bool else {
            throw GGUFError(file: path, .invalidMetadata(key: key, expected: "a number", found: v.summary))
        }
        return d
    }

    public func optionalDouble(_ key: String) throws(GGUFError) -> Double? {
        metadata[key] == nil ? nil : try requiredDouble(key)
    }

    public func requiredString(_ key: String) throws(GGUFError) -> String {
        let v = try requiredValue(key)
        guard let s = v.stringValue else {
            throw GGUFError(file: path, .invalidMetadata(key: key, expected: "a string", found: v.summary))
        }
        return s
    }

    public func optionalBool(_ key: String) throws(GGUFError) -> Bool? {
        guard let v = metadata[key] else { return nil }
        guard let b = v.boolValue else {
            throw GGUFError(file: path, .invalidMetadata(key: key, expected: "a bool", found: v.summary))
        }
        return b
    }

    public func requiredStringArray(_ key: String) throws(GGUFError) -> [String] {
        let v = try requiredValue(key)
        guard case let .array(.string, items) = v else {
            throw GGUFError(file: path, .invalidMetadata(key: key, expected: "an array of strings", found: v.summary))
        }
        return items.map { $0.stringValue ?? "" }
    }

    public func requiredIntArray(_ key: String) throws(GGUFError) -> [Int] {
        let v = try requiredValue(key)
        guard case let .array(t, items) = v, t != .string, t != .array, t != .bool,
              t != .float32, t != .float64 else {
            throw GGUFError(file: path, .invalidMetadata(key: key, expected: "an array of integers", found: v.summary))
        }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let i = item.intValue else {
                throw GGUFError(file: path, .invalidMetadata(key: key, expected: "an array of integers", found: item.summary))
            }
            out.append(i)
        }
        return out
    }
}
