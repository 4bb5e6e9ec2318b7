/// The size of a model the worker holds for this node, from its MODEL answer and the backend's
/// compute dtype (Specs/worker.md §4.1): what `chorus_worker_model_parameters` and
/// `chorus_worker_model_weight_bytes` export. The worker protocol reports no resident memory, so
/// the weight bytes are the parameters times the dtype's size, and absent for a dtype not known here.
public struct WorkerModelSize: Sendable, Equatable {
    public var parameters: Int
    public var bytesPerParameter: Int?

    public init(parameters: Int, dtype: String) {
        self.parameters = parameters
        self.bytesPerParameter = Self.bytesPerParameter(dtype: dtype)
    }

    public var weightBytes: Int? { bytesPerParameter.map { $0 * parameters } }

    /// Bytes per value of the dtype names workers use (`fp32`, `float16`, `bf16`, ...).
    static func bytesPerParameter(dtype: String) -> Int? {
        switch dtype.lowercased() {
        case "fp64", "f64", "float64", "double": 8
        case "fp32", "f32", "float32", "float": 4
        case "fp16", "f16", "float16", "half", "bf16", "bfloat16": 2
        case "int8", "i8", "fp8", "q8": 1
        default: nil
        }
    }
}
