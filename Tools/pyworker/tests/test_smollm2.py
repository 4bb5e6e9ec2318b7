"""SmolLM2-135M-Instruct (Q4_1): tokenizer, chat template, greedy decoding and PoC against the committed
vectors. Skipped when the model file is absent (fetch it with Tools/fetch-model.sh)."""
import pytest

from pyworker import generation, poc
from pyworker.config import file_digest
from pyworker.tokenizer import BPETokenizer, ChatTemplate
from conftest import SMOLLM2, load_vectors


def test_file_digest_matches_vectors(smollm2):
    assert file_digest(SMOLLM2) == load_vectors("smollm2-greedy.json")["model_digest"]


def test_config_from_gguf(smollm2):
    g, _ = smollm2
    c = g.weights.config
    assert (c.hidden_size, c.layer_count, c.head_count, c.kv_head_count, c.feed_forward_size, c.vocab_size) == (
        576, 30, 9, 3, 1536, 49152)
    assert c.tied_embeddings and c.rope_base == 100000.0


def test_chat_prompts_tokenize_and_greedy_decode_as_in_vectors(smollm2):
    g, model = smollm2
    tok = BPETokenizer(g.tokenizer)
    chat = ChatTemplate(g.tokenizer.chat_template)
    ref = load_vectors("smollm2-greedy.json")
    for p in ref["prompts"]:
        assert chat.render(p["messages"]) == p["rendered"]
        assert tok.encode(p["rendered"]) == p["prompt_ids"]
        assert tok.decode(p["completion_ids"]) == p["completion_text"]
    p = ref["prompts"][0]  # decoding every prompt takes a minute on 2 cores; one is enough here
    steps = [s for s in generation.generate(model, p["prompt_ids"], 16, generation.Sampling(), 5, set()) if "id" in s]
    assert [s["id"] for s in steps] == p["completion_ids"]
    for s, r in zip(steps, p["decode"]):
        assert abs(s["logprob"] - r["logprob"]) < 1e-3
        assert [e[0] for e in s["top"]] == [e[0] for e in r["top"]]
    scored = generation.score(model, p["prompt_ids"], p["completion_ids"], 5)
    for s, r in zip(scored, p["teacher_forced"]):
        assert abs(s["logprob"] - r["logprob"]) < 1e-3


def test_poc_vectors(smollm2):
    _, model = smollm2
    doc = load_vectors("poc-smollm2.json")
    case = doc["cases"][0]
    task = poc.PoCTask(bytes.fromhex(case["epoch_seed"]), bytes.fromhex(case["participant"]), case["model_id"],
                       case["seq_len"])
    nonces = [n["nonce"] for n in case["nonces"]]
    got = poc.PoCComputer(model, task).compute(nonces)
    for n, v in zip(case["nonces"], got):
        assert task.nonce_key(n["nonce"]).hex() == n["nonce_key"]
        assert poc.distance(bytes.fromhex(n["vector"]), v) <= case["dist_threshold"] / 10


def test_hf_tokenizers_agree_when_installed(smollm2):
    pytest.importorskip("tokenizers")
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    g, _ = smollm2
    t = g.tokenizer
    hf = Tokenizer(models.BPE(vocab={s: i for i, s in enumerate(t.tokens)},
                              merges=[tuple(m.split(" ", 1)) for m in t.merges]))
    hf.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    hf.decoder = decoders.ByteLevel()
    hf.add_special_tokens([AddedToken(s, special=True, normalized=False)
                           for s, ty in zip(t.tokens, t.token_types) if ty == 3])
    mine = BPETokenizer(t)
    for text in ["Hello world!", "The year 2024 had 366 days; isn't that odd?", "naïve café, 日本語, emoji 😀",
                 "  leading spaces\tand\ttabs\n\nnew lines", "def f(x):\n    return x**2  # square",
                 "<|im_start|>user\nWhat's 12+30?<|im_end|>\n", "³⁴ Ⅻ ½ ٣"]:
        assert mine.encode(text) == hf.encode(text).ids, text
