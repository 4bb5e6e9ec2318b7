import pytest

from pyworker.tokenizer import BPETokenizer, ChatTemplate, byte_level_tokenizer, digit_split, gpt2_split
from pyworker.gguf_model import TokenizerData
from pyworker.errors import WorkerError

# Expected pieces from Hugging Face `tokenizers` (ByteLevel(use_regex=True), Digits(individual_digits=True)),
# written with plain spaces and newlines.
GPT2_CASES = [
    ("Hello world's 123 ok!!  \n\n x", ["Hello", " world", "'s", " 123", " ok", "!!", "  \n\n", " x"]),
    ("a  1", ["a", " ", " 1"]),
    ("I'm  they'll  DON'T", ["I", "'m", " ", " they", "'ll", " ", " DON", "'", "T"]),
    ("\t\tb c\u00a0d", ["\t", "\t", "b", " c", "\u00a0", "d"]),
    ("trailing  ", ["trailing", "  "]),
    ("  \n  a", ["  \n ", " a"]),
    ("x = y+1;\n    return;", ["x", " =", " y", "+", "1", ";", "\n   ", " return", ";"]),
    ("", []),
]


@pytest.mark.parametrize("text,pieces", GPT2_CASES)
def test_gpt2_pre_tokenizer(text, pieces):
    assert gpt2_split(text) == pieces


def test_digit_split_then_gpt2():
    pieces = [w for p in digit_split("a  12x") for w in gpt2_split(p)]
    assert pieces == ["a", "  ", "1", "2", "x"]


def tiny_bpe():
    b = byte_level_tokenizer()
    toks = list(b.tokens) + ["he", "ll", "hell", "hello", "Ġw", "<|im_start|>", "<|im_end|>"]
    merges = ["h e", "l l", "he ll", "hell o", "Ġ w"]
    types = [1] * 261 + [3, 3]
    return BPETokenizer(TokenizerData("gpt2", "smollm", toks, types, merges, None, 262, None))


def test_bpe_merges_by_rank_and_specials():
    t = tiny_bpe()
    assert t.encode("hello") == [259]
    assert t.encode(" w") == [260]
    assert t.encode("<|im_start|>hello<|im_end|>") == [261, 259, 262]
    assert 261 not in t.encode("<|im_start|>", parse_special=False)
    assert t.decode([261, 259, 262]) == "<|im_start|>hello<|im_end|>"
    assert t.decode([261, 259, 262], skip_special=True) == "hello"
    assert t.decode(t.encode("héllo wörld 42")) == "héllo wörld 42"


def test_invalid_utf8_is_replaced_on_decode():
    b = byte_level_tokenizer()
    assert b.decode([0xC3]) == "\ufffd"


def test_unsupported_tokenizers_are_refused():
    with pytest.raises(WorkerError):
        BPETokenizer(TokenizerData("llama", "default", ["a"], [1], [], None, None, None))
    with pytest.raises(WorkerError):
        BPETokenizer(TokenizerData("gpt2", "qwen2", ["a"], [1], [], None, None, None))


def test_chat_template_default_system_and_refusals():
    src = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
           "{{ '<|im_start|>system\\nBe nice.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + "
           "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
           "{{ '<|im_start|>assistant\\n' }}{% endif %}")
    t = ChatTemplate(src)
    assert t.render([{"role": "user", "content": "hi"}]) == (
        "<|im_start|>system\nBe nice.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    assert t.render([{"role": "system", "content": "S"}], add_generation_prompt=False) == "<|im_start|>system\nS<|im_end|>\n"
    with pytest.raises(WorkerError):
        ChatTemplate("{{ bos_token }}{% for m in messages %}[INST]{{ m.content }}[/INST]{% endfor %}")
    with pytest.raises(WorkerError):
        ChatTemplate(src + "{% if tools %}{% endif %}")
