import ChorusInference
import Foundation

/// JSON encoding for API responses: compact, keys in declaration order (our Encodable types
/// spell OpenAI's snake_case names in their CodingKeys), `/` left unescaped.
enum APIJSON {
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Our response types hold only strings, numbers, arrays and optionals: encoding cannot fail.
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
