public import ChorusWorkerAPI

/// Renders chat messages into a prompt the way the model's `tokenizer.chat_template` (a Jinja
/// template) would. Rather than a Jinja interpreter, the template is recognised: ChatML templates
/// (SmolLM2, Qwen, …) render as
///
///     [<|im_start|>system\n{default system prompt}<|im_end|>\n]   only if the template adds one and
///                                                                 the first message is not a system turn
///     <|im_start|>{role}\n{content}<|im_end|>\n                   for each message
///     <|im_start|>assistant\n                                     when a generation prompt is wanted
///
/// Anything else is rejected with `TokenizerError.unsupportedChatTemplate`, never rendered wrongly.
public struct ChatTemplate: Sendable, Equatable {
    public enum Format: Sendable, Equatable {
        case chatML(defaultSystemPrompt: String?)
    }

    public let format: Format

    public init(format: Format) {
        self.format = format
    }

    /// Recognises `source` (a Jinja chat template).
    public init(jinja source: String) throws(TokenizerError) {
        guard source.contains("<|im_start|>"), source.contains("<|im_end|>") else {
            throw .unsupportedChatTemplate(reason: "no <|im_start|>/<|im_end|> markers in \"\(source.prefix(60))…\"")
        }
        guard source.contains("message['role']") || source.contains("message.role") || source.contains("message[\"role\"]"),
              source.contains("message['content']") || source.contains("message.content") || source.contains("message[\"content\"]") else {
            throw .unsupportedChatTemplate(reason: "ChatML markers present but the template does not render message role and content")
        }
        for construct in ["tools", "tool_calls", "reasoning_content", "<think>"] where source.contains(construct) {
            throw .unsupportedChatTemplate(reason: "the template uses '\(construct)', which this renderer does not implement")
        }
        format = .chatML(defaultSystemPrompt: try ChatTemplate.defaultSystemPrompt(in: source))
    }

    /// The literal system turn a template emits when the conversation has none, if any:
    /// `{% if … != 'system' %}{{ '<|im_start|>system\n…<|im_end|>\n' }}{% endif %}`.
    static func defaultSystemPrompt(in source: String) throws(TokenizerError) -> String? {
        let conditions = ["messages[0]['role'] != 'system'", "messages[0]['role'] != \"system\"", "messages[0].role != 'system'"]
        guard let condition = conditions.lazy.compactMap({ source.firstRange(of: $0) }).first else { return nil }
        let rest = source[condition.upperBound...]
        guard let open = rest.firstRange(of: "{{") else {
            throw .unsupportedChatTemplate(reason: "a default system turn is announced but not emitted as a literal")
        }
        var scanner = Substring(rest[open.upperBound...]).drop { $0 == " " }
        guard let quote = scanner.first, quote == "'" || quote == "\"" else {
            throw .unsupportedChatTemplate(reason: "the default system turn is not a string literal")
        }
        scanner = scanner.dropFirst()
        var literal = ""
        var escaped = false
        var closed = false
        for ch in scanner {
            if escaped {
                switch ch {
                case "n": literal.append("\n")
                case "t": literal.append("\t")
                default: literal.append(ch)
                }
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == quote {
                closed = true
                break
            } else {
                literal.append(ch)
            }
        }
        let prefix = "<|im_start|>system\n", suffix = "<|im_end|>\n"
        guard closed, literal.hasPrefix(prefix), literal.hasSuffix(suffix), literal.count >= prefix.count + suffix.count else {
            throw .unsupportedChatTemplate(reason: "the default system turn is not a ChatML system message")
        }
        return String(literal.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// The prompt text for `messages` (to be tokenized with special tokens parsed).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        switch format {
        case let .chatML(defaultSystem):
            var out = ""
            if let defaultSystem, let first = messages.first, first.role != "system" {
                out += "<|im_start|>system\n\(defaultSystem)<|im_end|>\n"
            }
            for m in messages {
                out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n"
            }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
            return out
        }
    }
}
