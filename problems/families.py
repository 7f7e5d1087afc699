"""Problems that one operator contributes at the shapes of many real models, written from one table.

long: the table of models is the point of the file (one entry per problem, each with its config values and where
its shapes come from); the templates above it are short.

``python problems/families.py`` writes (or rewrites) one folder per entry of FAMILY under problems/, in the same
layout as the hand-written problems: definition.json, reference.py, workload.jsonl. Rerunning it reproduces the
committed files byte for byte (uuids are derived from the problem's name and shape, as valid uuid4 strings), and
``tests/test_library_families.py`` holds the folders to it, so a change goes into this table, not into the files.

Each entry names its model, hf_id, the config values it takes (hidden_size, rms_norm_eps, intermediate_size,
heads, tensor-parallel degree) and where its token counts come from. Norms, activations and their backward passes
compute in fp32 and round once to bf16; GEMMs run in bf16 with fp32 accumulation, as the models run them.
"""

import hashlib
import json
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Token counts of one forward pass: decode batches (1, 7, 64), then prefill chunks up to 16384.
SERVING = (1, 7, 64, 512, 4096, 8192, 16384)
#: GEMM token counts: decode batches to 8192-token prefill chunks.
GEMM_TOKENS = (1, 7, 64, 256, 1024, 4096, 8192)
#: Tokens of one training step: micro-batch x sequence length, short fine-tuning samples to pre-training.
TRAINING = (128, 512, 2048, 4096, 8192, 16384)
#: At least one workload must move this much (the library's "matters on a GPU" floor).
GPU_MIN_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Model:
    label: str  # as people write it: "Qwen2.5-7B"
    tag: str  # the model: tag, lower case
    hf_id: str
    prefix: str  # how problem names start, in the library's spelling: "qwen2_5_7b"


@dataclass(frozen=True)
class Entry:
    """One problem: a family (the template), the model, its constants and the story of its shapes."""

    family: str
    name: str
    model: Model
    constants: dict
    layer: str  # which layer, with the config keys its constants come from
    shapes: str  # where the var axis values come from
    tokens: tuple[int, ...] = SERVING
    extra_tags: tuple[str, ...] = ()
    hf_id: str = ""  # a checkpoint other than the model's own (a quantized one)
    meta: dict = field(default_factory=dict)


# ---------------------------------------------------------------- models

M = {
    m.tag: m
    for m in [
        Model("Qwen2.5-0.5B", "qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", "qwen2_5_0_5b"),
        Model("Qwen2.5-7B", "qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", "qwen2_5_7b"),
        Model("Qwen2.5-72B", "qwen2.5-72b", "Qwen/Qwen2.5-72B-Instruct", "qwen2_5_72b"),
        Model("Qwen2.5-VL-7B", "qwen2.5-vl-7b", "Qwen/Qwen2.5-VL-7B-Instruct", "qwen2_5_vl_7b"),
        Model("Qwen3-0.6B", "qwen3-0.6b", "Qwen/Qwen3-0.6B", "qwen3_0_6b"),
        Model("Qwen3-4B", "qwen3-4b", "Qwen/Qwen3-4B", "qwen3_4b"),
        Model("Qwen3-8B", "qwen3-8b", "Qwen/Qwen3-8B", "qwen3_8b"),
        Model("Qwen3-32B", "qwen3-32b", "Qwen/Qwen3-32B", "qwen3_32b"),
        Model("Qwen3-30B-A3B", "qwen3-30b-a3b", "Qwen/Qwen3-30B-A3B", "qwen3_30b_a3b"),
        Model("DeepSeek-V3", "deepseek-v3", "deepseek-ai/DeepSeek-V3", "deepseek_v3"),
        Model("Kimi-K2", "kimi-k2", "moonshotai/Kimi-K2-Instruct", "kimi_k2"),
        Model("MiniMax-Text-01", "minimax-text-01", "MiniMaxAI/MiniMax-Text-01", "minimax_text_01"),
        Model("Llama-3.1-70B", "llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct", "llama3_1_70b"),
        Model("Llama-3.1-405B", "llama-3.1-405b", "meta-llama/Llama-3.1-405B-Instruct", "llama3_1_405b"),
        Model("Llama-3.1-8B", "llama-3.1-8b", "meta-llama/Llama-3.1-8B", "llama3_1_8b"),
        Model("Llama-3.2-1B", "llama-3.2-1b", "meta-llama/Llama-3.2-1B", "llama3_2_1b"),
        Model("Llama-3.2-3B", "llama-3.2-3b", "meta-llama/Llama-3.2-3B-Instruct", "llama3_2_3b"),
        Model("Llama-4-Scout-17B-16E", "llama-4-scout-17b-16e", "meta-llama/Llama-4-Scout-17B-16E-Instruct", "llama4_scout"),
        Model("Gemma-2-2B", "gemma-2-2b", "google/gemma-2-2b", "gemma2_2b"),
        Model("Gemma-2-27B", "gemma-2-27b", "google/gemma-2-27b", "gemma2_27b"),
        Model("Gemma-3-12B", "gemma-3-12b", "google/gemma-3-12b-it", "gemma3_12b"),
        Model("Gemma-3-27B", "gemma-3-27b", "google/gemma-3-27b-it", "gemma3_27b"),
        Model("gpt-oss-120b", "gpt-oss-120b", "openai/gpt-oss-120b", "gpt_oss_120b"),
        Model("Mistral-Nemo-12B", "mistral-nemo-12b", "mistralai/Mistral-Nemo-Base-2407", "mistral_nemo_12b"),
        Model("Mistral-Large-2", "mistral-large-2", "mistralai/Mistral-Large-Instruct-2407", "mistral_large_2"),
        Model("Mixtral-8x22B", "mixtral-8x22b", "mistralai/Mixtral-8x22B-Instruct-v0.1", "mixtral_8x22b"),
        Model("Phi-3-mini", "phi-3-mini", "microsoft/Phi-3-mini-4k-instruct", "phi3_mini"),
        Model("Phi-4", "phi-4", "microsoft/phi-4", "phi4"),
        Model("SmolLM2-360M", "smollm2-360m", "HuggingFaceTB/SmolLM2-360M", "smollm2_360m"),
        Model("SmolLM2-1.7B", "smollm2-1.7b", "HuggingFaceTB/SmolLM2-1.7B", "smollm2_1_7b"),
        Model("OLMo-2-7B", "olmo-2-7b", "allenai/OLMo-2-1124-7B", "olmo2_7b"),
        Model("OLMo-2-13B", "olmo-2-13b", "allenai/OLMo-2-1124-13B", "olmo2_13b"),
        Model("BERT-base", "bert-base-uncased", "google-bert/bert-base-uncased", "bert_base"),
        Model("BERT-large", "bert-large-uncased", "google-bert/bert-large-uncased", "bert_large"),
    ]
}


# ---------------------------------------------------------------- the table


def _rmsnorm(tag, hidden, eps, layer, shapes, unit_offset=False, prefix="", tokens=SERVING):
    name = f"{tag_name(tag)}_{prefix}rmsnorm_h{hidden}"
    return Entry("rmsnorm", name, M[tag], {"hidden_size": hidden, "eps": eps, "unit_offset": unit_offset},
                 layer, shapes, tokens)  # fmt: skip


def tag_name(tag: str) -> str:
    return M[tag].prefix


_DECODE_PREFILL = "num_tokens from decode batches (1, 7, 64) to chunked-prefill chunks (up to 16384)"
_TRAIN = "num_tokens = micro-batch x sequence length: short fine-tuning samples (128, 512) to pre-training sequences"
_NORM_LAYERS = "input_layernorm, post_attention_layernorm and the final norm"
_GEMMA_LAYERS = "input, post-attention, pre- and post-feedforward layernorms and the final norm; Gemma scales by 1 + weight"

FAMILY: list[Entry] = [
    _rmsnorm("qwen2.5-0.5b", 896, 1e-6, _NORM_LAYERS, _DECODE_PREFILL + "; 32768: two such chunks in one batch",
             tokens=SERVING + (32768,)),
    _rmsnorm("qwen3-0.6b", 1024, 1e-6, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("qwen2.5-vl-7b", 1280, 1e-6, "norm1 and norm2 of the 32 vision-encoder blocks (vision_config.hidden_size 1280)",
             "num_tokens = 14x14 patches: 256 (224 px), 1024 (448 px), 4096 (896 px), 5184 (1008 px), 16384 (four "
             "896 px images), 32768 (64 frames of 448 px video, two frames per temporal patch)", prefix="vision_",
             tokens=(256, 1024, 4096, 5184, 16384, 32768)),  # fmt: skip
    _rmsnorm("deepseek-v3", 512, 1e-6, "kv_a_layernorm of MLA, over the compressed KV latent (kv_lora_rank 512)",
             _DECODE_PREFILL + "; 65536: four such chunks in one batch", prefix="kv_a_",
             tokens=SERVING + (65536,)),  # fmt: skip
    _rmsnorm("deepseek-v3", 1536, 1e-6, "q_a_layernorm of MLA, over the compressed query (q_lora_rank 1536)",
             _DECODE_PREFILL, prefix="q_a_"),  # fmt: skip
    _rmsnorm("llama-3.2-1b", 2048, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("gemma-2-2b", 2304, 1e-6, _GEMMA_LAYERS, _DECODE_PREFILL, True),
    _rmsnorm("qwen3-4b", 2560, 1e-6, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("gpt-oss-120b", 2880, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("llama-3.2-3b", 3072, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("qwen2.5-7b", 3584, 1e-6, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("gemma-3-12b", 3840, 1e-6, _GEMMA_LAYERS, _DECODE_PREFILL, True),
    _rmsnorm("gemma-2-27b", 4608, 1e-6, _GEMMA_LAYERS, _DECODE_PREFILL, True),
    _rmsnorm("mistral-nemo-12b", 5120, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("gemma-3-27b", 5376, 1e-6, _GEMMA_LAYERS, _DECODE_PREFILL, True),
    _rmsnorm("mixtral-8x22b", 6144, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("deepseek-v3", 7168, 1e-6, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("llama-3.1-70b", 8192, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("mistral-large-2", 12288, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("llama-3.1-405b", 16384, 1e-5, _NORM_LAYERS, _DECODE_PREFILL),
]


def _fused_add(tag, hidden, eps):
    name = f"{tag_name(tag)}_fused_add_rmsnorm_h{hidden}"
    return Entry("fused_add_rmsnorm", name, M[tag], {"hidden_size": hidden, "eps": eps},
                 "the residual add + post_attention_layernorm / next input_layernorm that vLLM and SGLang fuse",
                 _DECODE_PREFILL, extra_tags=("fused",))  # fmt: skip


FAMILY += [
    _fused_add("smollm2-1.7b", 2048, 1e-5),
    _fused_add("phi-3-mini", 3072, 1e-5),
    _fused_add("qwen3-32b", 5120, 1e-6),
    _fused_add("llama-4-scout-17b-16e", 5120, 1e-5),
    _fused_add("minimax-text-01", 6144, 1e-5),
    _fused_add("kimi-k2", 7168, 1e-6),
    _fused_add("qwen2.5-72b", 8192, 1e-6),
]


def _rmsnorm_backward(tag, hidden, eps, tokens=TRAINING):
    name = f"{tag_name(tag)}_rmsnorm_backward_h{hidden}"
    shapes = _TRAIN.replace("(128, 512)", "(" + ", ".join(map(str, tokens[:2])) + ")")
    return Entry("rmsnorm_backward", name, M[tag], {"hidden_size": hidden, "eps": eps},
                 _NORM_LAYERS, shapes, tokens)  # fmt: skip


FAMILY += [
    _rmsnorm_backward("smollm2-360m", 960, 1e-5),
    _rmsnorm_backward("qwen3-0.6b", 1024, 1e-6),
    _rmsnorm_backward("llama-3.2-1b", 2048, 1e-5),
    _rmsnorm_backward("llama-3.2-3b", 3072, 1e-5),
    _rmsnorm_backward("qwen2.5-7b", 3584, 1e-6),
    _rmsnorm_backward("olmo-2-13b", 5120, 1e-6),
    _rmsnorm_backward("deepseek-v3", 7168, 1e-6),
    _rmsnorm_backward("llama-3.1-70b", 8192, 1e-5, (128, 256) + TRAINING[2:]),
]


def _act(tag, act, intermediate, layer=None, shapes=_DECODE_PREFILL, tokens=SERVING, rows=None, tp=1):
    """A gated activation: act in {"silu", "gelu_tanh"}; rows: (name of the row axis, top_k) for MoE experts."""
    op = f"{act}_and_mul"
    shard = f"_tp{tp}" if tp > 1 else ""
    kind = "moe_expert_" if rows else ""
    name = f"{tag_name(tag)}_{kind}{op}{shard}_i{intermediate}"
    config = "moe_intermediate_size" if rows else "intermediate_size"
    layer = layer or f"the gated MLP ({config} {intermediate}" + (f", {tp}-way tensor parallel" if tp > 1 else "") + ")"
    return Entry(op, name, M[tag], {"intermediate_size": intermediate, "act": act, "rows": rows, "tp": tp},
                 layer, shapes, tokens)  # fmt: skip


_EXPERT_ROWS = "num_rows = tokens x top_k routed rows for decode batches (1, 7, 64 tokens) to prefill chunks (up to 8192 tokens)"

FAMILY += [
    _act("llama-3.2-1b", "silu", 8192),
    _act("qwen3-8b", "silu", 12288),
    _act("olmo-2-13b", "silu", 13824),
    _act("phi-4", "silu", 17920),
    _act("deepseek-v3", "silu", 18432, "the dense MLP of the first 3 layers (intermediate_size 18432)"),
    _act("qwen2.5-7b", "silu", 18944),
    _act("qwen3-32b", "silu", 25600),
    _act("llama-3.1-70b", "silu", 28672),
    _act("qwen2.5-72b", "silu", 29568),
    _act("llama-3.1-405b", "silu", 53248),
    _act("qwen3-30b-a3b", "silu", 768, shapes=_EXPERT_ROWS, rows=8, tokens=tuple(8 * t for t in (1, 7, 64, 512, 2048, 4096, 8192))),
    _act("deepseek-v3", "silu", 2048, shapes=_EXPERT_ROWS, rows=8, tokens=tuple(8 * t for t in (1, 7, 64, 512, 2048, 4096, 8192))),
    _act("minimax-text-01", "silu", 9216, shapes=_EXPERT_ROWS.replace("top_k", "top_k (2)"), rows=2,
         tokens=tuple(2 * t for t in (1, 7, 64, 512, 2048, 4096, 8192))),  # fmt: skip
    _act("gemma-2-2b", "gelu_tanh", 9216),
    _act("gemma-3-12b", "gelu_tanh", 15360),
    _act("gemma-3-27b", "gelu_tanh", 21504),
    _act("gemma-2-27b", "gelu_tanh", 36864),
]


def _act_backward(tag, intermediate, tp=1):
    shard = f"_tp{tp}" if tp > 1 else ""
    name = f"{tag_name(tag)}_silu_and_mul_backward{shard}_i{intermediate}"
    layer = f"the SwiGLU MLP (intermediate_size {intermediate * tp}" + (
        f", a {tp}-way Megatron tensor-parallel shard of {intermediate}" if tp > 1 else "") + ")"
    return Entry("silu_and_mul_backward", name, M[tag], {"intermediate_size": intermediate, "tp": tp},
                 layer, _TRAIN.replace("(128, 512)", "(16, 64)"), (16, 64) + TRAINING[2:])  # fmt: skip


FAMILY += [
    _act_backward("smollm2-360m", 2560),
    _act_backward("llama-3.1-70b", 3584, tp=8),
    _act_backward("llama-3.2-1b", 8192),
    _act_backward("olmo-2-7b", 11008),
    _act_backward("qwen3-8b", 12288),
    _act_backward("qwen2.5-7b", 18944),
]


def _gemm(tag, layer_name, n, k, layer, shapes=_DECODE_PREFILL.replace("16384", "8192"), tokens=GEMM_TOKENS,
          bias=False, tp=1, cpu_rows=None):  # fmt: skip
    """A bf16 linear layer. cpu_rows: the weight is too large for CI, so n is a var axis and two workloads take that
    many output rows (a slice of the layer, like the Gemma-2 LM head's)."""
    shard = f"_tp{tp}" if tp > 1 else ""
    name = f"{tag_name(tag)}_{layer_name}{shard}_n{n}_k{k}"
    return Entry("gemm", name, M[tag], {"layer_name": layer_name, "n": n, "k": k, "bias": bias, "tp": tp, "cpu_rows": cpu_rows},
                 layer, shapes, tokens)  # fmt: skip


_ENCODER = "num_tokens = batch x sequence: one 128-token sentence to 256 sequences of 512 tokens"

FAMILY += [
    _gemm("qwen2.5-7b", "qkv_proj", 4608, 3584,
          "fused QKV projection with bias: (28 + 2 x 4) heads x 128 = 4608 outputs, hidden_size 3584", bias=True),
    _gemm("qwen2.5-7b", "o_proj", 3584, 3584, "attention output projection: 28 heads x 128 -> hidden_size 3584"),
    _gemm("phi-3-mini", "qkv_proj", 9216, 3072, "fused qkv_proj: 3 x 32 heads x 96 = 9216 outputs, hidden_size 3072"),
    _gemm("llama-3.2-3b", "qkv_proj", 5120, 3072, "fused QKV projection: (24 + 2 x 8) heads x 128 = 5120, hidden 3072"),
    _gemm("smollm2-1.7b", "qkv_proj", 6144, 2048, "fused QKV projection: 3 x 32 heads x 64 = 6144, hidden_size 2048"),
    _gemm("llama-3.2-1b", "down_proj", 2048, 8192, "MLP down projection: intermediate_size 8192 -> hidden_size 2048"),
    _gemm("qwen3-4b", "down_proj", 2560, 9728, "MLP down projection: intermediate_size 9728 -> hidden_size 2560"),
    _gemm("gemma-2-2b", "down_proj", 2304, 9216, "MLP down projection: intermediate_size 9216 -> hidden_size 2304"),
    _gemm("llama-3.1-70b", "qkv_proj", 1280, 8192,
          "fused QKV projection on one of 8 tensor-parallel ranks: (64 + 2 x 8) heads x 128 / 8 = 1280, hidden 8192", tp=8),
    _gemm("llama-3.1-70b", "o_proj", 8192, 1024,
          "attention output projection on one of 8 tensor-parallel ranks: 64 heads x 128 / 8 = 1024 -> hidden 8192", tp=8),
    _gemm("llama-3.1-70b", "down_proj", 8192, 3584,
          "MLP down projection on one of 8 tensor-parallel ranks: intermediate_size 28672 / 8 = 3584 -> hidden 8192",
          tokens=(1, 7, 64, 256, 1024, 4096, 8192), tp=8),  # fmt: skip
    _gemm("bert-base-uncased", "qkv_proj", 2304, 768, "fused query/key/value projections with bias: 3 x 768, hidden 768",
          _ENCODER, (128, 512, 4096, 16384, 65536, 131072), bias=True),  # fmt: skip
    _gemm("bert-large-uncased", "ffn_intermediate", 4096, 1024,
          "feed-forward intermediate dense layer with bias: hidden 1024 -> intermediate_size 4096 (GELU follows)",
          _ENCODER, (128, 512, 4096, 16384, 65536, 131072), bias=True),  # fmt: skip
    _gemm("qwen2.5-vl-7b", "vision_qkv", 3840, 1280,
          "vision-encoder fused qkv with bias: 3 x 16 heads x 80 = 3840, vision hidden_size 1280",
          "num_tokens = 14x14 patches: 256 (224 px), 1024 (448 px), 4096 (896 px), 5184 (1008 px), 16384 (four 896 px "
          "images), 32768 (64 frames of 448 px video)", (256, 1024, 4096, 5184, 16384, 32768), bias=True),  # fmt: skip
    _gemm("llama-3.1-8b", "down_proj", 4096, 14336,
          "MLP down projection: intermediate_size 14336 -> hidden_size 4096 (the whole layer, tensor parallel 1)",
          tokens=(1, 7, 64, 256, 1024, 4096, 8192), cpu_rows=256),  # fmt: skip
    _gemm("llama-3.1-8b", "gate_up_proj", 28672, 4096,
          "fused gate and up projections (vLLM's MergedColumnParallelLinear): 2 x intermediate_size 14336 = 28672 "
          "outputs, hidden_size 4096", tokens=(1, 7, 64, 256, 1024, 4096, 8192), cpu_rows=256),  # fmt: skip
    _gemm("llama-3.1-70b", "gate_up_proj", 57344, 8192,
          "fused gate and up projections of the whole layer (tensor parallel 1, as one GPU holds it in FP8 or one "
          "H200 in bf16): 2 x intermediate_size 28672 = 57344 outputs, hidden_size 8192",
          tokens=(1, 7, 64, 256, 1024, 4096, 8192), cpu_rows=128),  # fmt: skip
]


# ---------------------------------------------------------------- rendering

ACTIVATIONS = {
    "silu": ("SwiGLU", "silu(x) = x * sigmoid(x)", "torch.nn.functional.silu(gate)"),
    "gelu_tanh": ("GeGLU", "gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
                  'torch.nn.functional.gelu(gate, approximate="tanh")'),
}  # fmt: skip


def uuid_for(name: str, axes: dict) -> str:
    """A uuid4-formatted id fixed by the problem and its shape, so that regenerating keeps it."""
    digest = hashlib.sha256(json.dumps([name, axes], sort_keys=True).encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def _tensor(shape, dtype="bfloat16"):
    return {"shape": shape, "dtype": dtype}


def _norm(e: Entry) -> tuple[dict, str, str]:
    h, eps = e.constants["hidden_size"], e.constants["eps"]
    offset = e.constants.get("unit_offset")
    scale = "(1 + weight)" if offset else "weight"
    defn = {
        "op_type": "rmsnorm",
        "description": f"RMSNorm of {e.model.label} ({e.layer}): y = x / sqrt(mean(x^2) + eps) * {scale} in fp32, "
        f"rounded once to bf16. Width {h} and eps {eps:g} come from the model config. {e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "hidden_size": {"type": "const", "value": h}},
        "inputs": {"hidden_states": _tensor(["num_tokens", "hidden_size"]), "weight": _tensor(["hidden_size"])},
        "outputs": {"output": _tensor(["num_tokens", "hidden_size"])},
    }
    w = "(1 + weight.float())" if offset else "weight.float()"
    source = f'''"""{e.model.label} RMSNorm (width {h}): y = x / sqrt(mean(x^2) + eps) * {scale}, in fp32, rounded once to bf16."""

import torch

EPS = {eps!r}


@torch.no_grad()
def run(hidden_states, weight):
    x = hidden_states.float()
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    return (x * inv_rms * {w}).to(hidden_states.dtype)
'''
    return defn, source, "hidden_states weight"


def _fused_add_norm(e: Entry) -> tuple[dict, str, str]:
    h, eps = e.constants["hidden_size"], e.constants["eps"]
    row = ["num_tokens", "hidden_size"]
    defn = {
        "op_type": "fused_add_rmsnorm",
        "description": f"Residual add fused with RMSNorm in {e.model.label} ({e.layer}): residual_out = hidden_states "
        f"+ residual (rounded to bf16, it is the next sublayer's residual), output = RMSNorm(residual_out) * weight in "
        f"fp32, rounded once. hidden_size {h} and rms_norm_eps {eps:g} from the model config. {e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "hidden_size": {"type": "const", "value": h}},
        "inputs": {"hidden_states": _tensor(row), "residual": _tensor(row), "weight": _tensor(["hidden_size"])},
        "outputs": {"output": _tensor(row), "residual_out": _tensor(row)},
    }
    source = f'''"""{e.model.label} residual add + RMSNorm: the sum is rounded to bf16 (the stored residual), then normalized in fp32."""

import torch

EPS = {eps!r}


@torch.no_grad()
def run(hidden_states, residual, weight):
    residual_out = (hidden_states.float() + residual.float()).to(hidden_states.dtype)
    x = residual_out.float()
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    output = (x * inv_rms * weight.float()).to(hidden_states.dtype)
    return output, residual_out
'''
    return defn, source, "hidden_states residual weight"


def _norm_backward(e: Entry) -> tuple[dict, str, str]:
    h, eps = e.constants["hidden_size"], e.constants["eps"]
    row = ["num_tokens", "hidden_size"]
    defn = {
        "op_type": "rmsnorm_backward",
        "description": f"Backward pass of the {e.model.label} RMSNorm ({e.layer}; hidden_size {h}, rms_norm_eps "
        f"{eps:g} from the config) in bf16 training: from grad_output, the saved input and the weight, compute "
        "grad_input and grad_weight (summed over tokens, in the parameter's dtype as PyTorch autograd returns it), "
        f"in fp32. The forward's 1/rms is recomputed, not saved. {e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "hidden_size": {"type": "const", "value": h}},
        "inputs": {"grad_output": _tensor(row), "hidden_states": _tensor(row), "weight": _tensor(["hidden_size"])},
        "outputs": {"grad_input": _tensor(row), "grad_weight": _tensor(["hidden_size"])},
    }
    source = f'''"""Backward of the {e.model.label} RMSNorm y = x * rsqrt(mean(x^2) + eps) * w, written out in fp32 (it equals autograd)."""

import torch

EPS = {eps!r}


@torch.no_grad()
def run(grad_output, hidden_states, weight):
    x = hidden_states.float()
    dy = grad_output.float()
    inv_rms = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS)
    x_hat = x * inv_rms
    grad_weight = (dy * x_hat).sum(dim=0)
    dx_hat = dy * weight.float()
    # d/dx of x * inv_rms: inv_rms * (dx_hat - x_hat * mean(dx_hat * x_hat))
    grad_input = inv_rms * (dx_hat - x_hat * (dx_hat * x_hat).mean(dim=-1, keepdim=True))
    return grad_input.to(hidden_states.dtype), grad_weight.to(weight.dtype)
'''
    return defn, source, "grad_output hidden_states weight"


def _gated(e: Entry) -> tuple[dict, str, str]:
    i, act, top_k = e.constants["intermediate_size"], e.constants["act"], e.constants["rows"]
    label, formula, call = ACTIVATIONS[act]
    rows = "num_rows" if top_k else "num_tokens"
    where = f"rows of the routed experts, {top_k} per token" if top_k else "tokens"
    defn = {
        "op_type": f"{act}_and_mul",
        "description": f"{label} activation of {e.model.label}'s {e.layer}, vLLM's [gate | up] layout over {where}: "
        f"out = act(gate) * up with {formula}, in fp32, rounded once to bf16. {e.shapes}.",
        "axes": {rows: {"type": "var"}, "intermediate_size": {"type": "const", "value": i},
                 "gate_up_size": {"type": "expr", "expression": "2 * intermediate_size"}},
        "inputs": {"gate_up": _tensor([rows, "gate_up_size"])},
        "outputs": {"out": _tensor([rows, "intermediate_size"])},
    }  # fmt: skip
    source = f'''"""{e.model.label} {label}: {act} of the gate half times the up half, in fp32, rounded once to bf16."""

import torch


@torch.no_grad()
def run(gate_up):
    gate, up = gate_up.float().chunk(2, dim=-1)
    return ({call} * up).to(gate_up.dtype)
'''
    return defn, source, "gate_up"


def _gated_backward(e: Entry) -> tuple[dict, str, str]:
    i = e.constants["intermediate_size"]
    defn = {
        "op_type": "silu_and_mul_backward",
        "description": f"Backward pass of {e.model.label}'s SwiGLU activation ({e.layer}) in bf16 training, vLLM's "
        "[gate | up] layout: forward y = silu(gate) * up; from grad_output and the saved gate_up compute grad_gate_up "
        "= [dy * up * silu'(gate) | dy * silu(gate)], with silu'(g) = sigmoid(g) * (1 + g * (1 - sigmoid(g))), in "
        f"fp32, rounded once. {e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "intermediate_size": {"type": "const", "value": i},
                 "gate_up_size": {"type": "expr", "expression": "2 * intermediate_size"}},
        "inputs": {"grad_output": _tensor(["num_tokens", "intermediate_size"]),
                   "gate_up": _tensor(["num_tokens", "gate_up_size"])},
        "outputs": {"grad_gate_up": _tensor(["num_tokens", "gate_up_size"])},
    }  # fmt: skip
    source = f'''"""Backward of {e.model.label}'s y = silu(gate) * up with gate_up = [gate | up], in fp32 (it equals autograd)."""

import torch


@torch.no_grad()
def run(grad_output, gate_up):
    gate, up = gate_up.float().chunk(2, dim=-1)
    dy = grad_output.float()
    sig = torch.sigmoid(gate)
    grad_gate = dy * up * sig * (1 + gate * (1 - sig))
    grad_up = dy * gate * sig
    return torch.cat([grad_gate, grad_up], dim=-1).to(gate_up.dtype)
'''
    return defn, source, "grad_output gate_up"


def _linear(e: Entry) -> tuple[dict, str, str]:
    n, k, bias, cpu_rows = (e.constants[key] for key in ("n", "k", "bias", "cpu_rows"))
    axes = {"num_tokens": {"type": "var"}}
    axes["n"] = {"type": "var"} if cpu_rows else {"type": "const", "value": n}
    axes["k"] = {"type": "const", "value": k}
    inputs = {"hidden_states": _tensor(["num_tokens", "k"]), "weight": _tensor(["n", "k"])}
    if bias:
        inputs["bias"] = _tensor(["n"])
    slice_note = (f" n is a var axis: the real layer has n = {n} (every GPU workload); the two smallest workloads "
                  f"compute a {cpu_rows}-row slice of the weight, sized for CI.") if cpu_rows else ""  # fmt: skip
    formula = "hidden_states @ weight.T + bias" if bias else "hidden_states @ weight.T"
    defn = {
        "op_type": "gemm",
        "description": f"bf16 linear layer of {e.model.label}: {e.layer}. output = {formula}, N = {n}, K = {k}; "
        f"torch accumulates in fp32 and rounds once, as the model runs it. {e.shapes}.{slice_note}",
        "axes": axes,
        "inputs": inputs,
        "outputs": {"output": _tensor(["num_tokens", "n"])},
    }
    params = "hidden_states, weight, bias" if bias else "hidden_states, weight"
    source = f'''"""{e.model.label} {e.constants["layer_name"]}: a bf16 linear layer (torch accumulates in fp32), as the model runs it."""

import torch
import torch.nn.functional as F


@torch.no_grad()
def run({params}):
    return F.linear({params})
'''
    return defn, source, params.replace(",", "")


RENDER = {
    "rmsnorm": _norm,
    "fused_add_rmsnorm": _fused_add_norm,
    "rmsnorm_backward": _norm_backward,
    "silu_and_mul": _gated,
    "gelu_tanh_and_mul": _gated,
    "silu_and_mul_backward": _gated_backward,
    "gemm": _linear,
}


def _workload_bytes(defn: dict, axes: dict) -> int:
    values = {a: spec["value"] for a, spec in defn["axes"].items() if spec["type"] == "const"} | axes
    for a, spec in defn["axes"].items():
        if spec["type"] == "expr":
            values[a] = 2 * values["intermediate_size"]  # the only expr the families use
    total = 0
    for spec in [*defn["inputs"].values(), *defn["outputs"].values()]:
        count = 1
        for dim in spec["shape"]:
            count *= values[dim]
        total += 2 * count
    return total


def workloads(e: Entry, defn: dict) -> list[dict]:
    """One line per token count (extended by doubling until one moves GPU_MIN_BYTES), input kinds all random."""
    var = [a for a, spec in defn["axes"].items() if spec["type"] == "var"]
    rows = var[0]
    tokens = list(e.tokens)
    cpu_rows = e.constants.get("cpu_rows")
    chosen = []
    for i, t in enumerate(tokens):
        axes = {rows: t}
        if cpu_rows:
            axes["n"] = cpu_rows if i < 2 else e.constants["n"]
        chosen.append(axes)
    if max(_workload_bytes(defn, a) for a in chosen) < GPU_MIN_BYTES:
        raise ValueError(f"{e.name}: no workload moves {GPU_MIN_BYTES} bytes; add a larger token count")
    return [
        {"uuid": uuid_for(e.name, axes), "axes": axes, "inputs": {name: {"type": "random"} for name in defn["inputs"]}}
        for axes in chosen
    ]


def render(e: Entry) -> dict[str, str]:
    """The problem's three files, by file name."""
    body, source, _ = RENDER[e.family](e)
    stage = "backward" if e.family.endswith("_backward") else "forward"
    defn = {
        "name": e.name,
        "op_type": body["op_type"],
        "description": body["description"],
        "hf_id": e.hf_id or e.model.hf_id,
        "tags": [f"model:{e.model.tag}", f"stage:{stage}", *e.extra_tags],
        "axes": body["axes"],
        "inputs": body["inputs"],
        "outputs": body["outputs"],
    }
    lines = [json.dumps(w) for w in workloads(e, body)]
    return {
        "definition.json": _dump(defn),
        "reference.py": source,
        "workload.jsonl": "\n".join(lines) + "\n",
    }


def _dump(defn: dict) -> str:
    """JSON in the library's hand-written style: one line per axis and per tensor."""
    out = ["{"]
    items = list(defn.items())
    for index, (key, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        if isinstance(value, dict) and key in ("axes", "inputs", "outputs"):
            out.append(f"  {json.dumps(key)}: {{")
            inner = list(value.items())
            for j, (name, spec) in enumerate(inner):
                out.append(f"    {json.dumps(name)}: {json.dumps(spec)}" + ("," if j < len(inner) - 1 else ""))
            out.append("  }" + comma)
        else:
            out.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    out.append("}")
    return "\n".join(out) + "\n"


def write(root: Path = HERE) -> list[str]:
    """Write every family problem under root; returns their names."""
    names = [e.name for e in FAMILY]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate names: {sorted(n for n in names if names.count(n) > 1)}")
    for e in FAMILY:
        folder = root / e.name
        folder.mkdir(parents=True, exist_ok=True)
        for file, text in render(e).items():
            (folder / file).write_text(text)
    return names


if __name__ == "__main__":
    written = write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"wrote {len(written)} problems")
