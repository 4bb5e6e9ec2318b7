import Foundation

/// The protocol's JSON conventions: snake_case field names over the camelCase Swift messages.
public enum WorkerJSON {
    public static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Messages are plain data; the only failure is a non-finite number, which JSON cannot
        // carry. Answer with a protocol error rather than a partial object.
        return (try? encoder.encode(value))
            ?? Data(#"{"error":{"code":"internal","message":"the reply holds a non-finite number and cannot be written as JSON"}}"#.utf8)
    }

    /// Decodes a request or response, turning a decoding failure into the `WorkerError` that
    /// names the field (`invalid_json` when the body is not JSON at all).
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(WorkerError) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw WorkerError(decoding: error)
        } catch {
            throw WorkerError(status: 400, code: "invalid_json", message: "the body is not valid JSON: \(error)")
        }
    }

    /// `{"error": {...}}`.
    struct ErrorBody: Codable {
        struct Detail: Codable {
            var code: String
            var message: String
            var field: String?
        }
        var error: Detail
    }

    public static func errorBody(_ error: WorkerError) -> Data {
        encode(ErrorBody(error: .init(code: error.code, message: error.message, field: error.field)))
    }

    /// Parses an error body; nil when the data is not one.
    public static func error(from data: Data, status: Int) -> WorkerError? {
        guard let body = try? decode(ErrorBody.self, from: data) else { return nil }
        return WorkerError(status: status, code: body.error.code, message: body.error.message, field: body.error.field)
    }
}
