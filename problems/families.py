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
        Model("Qwen3-1.7B", "qwen3-1.7b", "Qwen/Qwen3-1.7B", "qwen3_1_7b"),
        Model("Qwen3-14B", "qwen3-14b", "Qwen/Qwen3-14B", "qwen3_14b"),
        Model("Qwen3-235B-A22B", "qwen3-235b-a22b", "Qwen/Qwen3-235B-A22B", "qwen3_235b_a22b"),
        Model("Qwen3-Coder-480B-A35B", "qwen3-coder-480b-a35b", "Qwen/Qwen3-Coder-480B-A35B-Instruct",
              "qwen3_coder_480b_a35b"),
        Model("Qwen3-Next-80B-A3B", "qwen3-next-80b-a3b", "Qwen/Qwen3-Next-80B-A3B-Instruct", "qwen3_next_80b_a3b"),
        Model("MiniMax-M2", "minimax-m2", "MiniMaxAI/MiniMax-M2", "minimax_m2"),
        Model("Llama-4-Maverick-17B-128E", "llama-4-maverick-17b-128e", "meta-llama/Llama-4-Maverick-17B-128E-Instruct",
              "llama4_maverick"),
        Model("Yi-34B", "yi-34b", "01-ai/Yi-34B", "yi_34b"),
        Model("CodeLlama-34B", "codellama-34b", "codellama/CodeLlama-34b-hf", "codellama_34b"),
        Model("Granite-3.0-8B", "granite-3.0-8b", "ibm-granite/granite-3.0-8b-instruct", "granite3_8b"),
        Model("Baichuan2-13B", "baichuan2-13b", "baichuan-inc/Baichuan2-13B-Chat", "baichuan2_13b"),
        Model("ChatGLM3-6B", "chatglm3-6b", "THUDM/chatglm3-6b", "chatglm3_6b"),
        Model("StarCoder2-15B", "starcoder2-15b", "bigcode/starcoder2-15b", "starcoder2_15b"),
        Model("Mistral-Small-24B", "mistral-small-24b", "mistralai/Mistral-Small-24B-Instruct-2501",
              "mistral_small_24b"),
        Model("Falcon-40B", "falcon-40b", "tiiuae/falcon-40b", "falcon_40b"),
        Model("Llama-2-7B", "llama-2-7b", "meta-llama/Llama-2-7b-hf", "llama2_7b"),
        Model("DeepSeek-V2-Lite", "deepseek-v2-lite", "deepseek-ai/DeepSeek-V2-Lite", "deepseek_v2_lite"),
        Model("Qwen2.5-1.5B", "qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B-Instruct", "qwen2_5_1_5b"),
        Model("Qwen2.5-3B", "qwen2.5-3b", "Qwen/Qwen2.5-3B-Instruct", "qwen2_5_3b"),
        Model("Qwen2.5-14B", "qwen2.5-14b", "Qwen/Qwen2.5-14B-Instruct", "qwen2_5_14b"),
        Model("Qwen2.5-32B", "qwen2.5-32b", "Qwen/Qwen2.5-32B-Instruct", "qwen2_5_32b"),
        Model("Command-R+", "command-r-plus", "CohereForAI/c4ai-command-r-plus", "command_r_plus"),
        Model("Phi-3-medium", "phi-3-medium", "microsoft/Phi-3-medium-4k-instruct", "phi3_medium"),
        Model("Phi-3.5-MoE", "phi-3.5-moe", "microsoft/Phi-3.5-MoE-instruct", "phi3_5_moe"),
        Model("Gemma-3-1B", "gemma-3-1b", "google/gemma-3-1b-it", "gemma3_1b"),
        Model("Gemma-3-4B", "gemma-3-4b", "google/gemma-3-4b-it", "gemma3_4b"),
        Model("TinyLlama-1.1B", "tinyllama-1.1b", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "tinyllama_1_1b"),
        Model("InternLM2.5-7B", "internlm2.5-7b", "internlm/internlm2_5-7b-chat", "internlm2_5_7b"),
        Model("SDXL", "sdxl", "stabilityai/stable-diffusion-xl-base-1.0", "sdxl"),
        Model("PixArt-alpha", "pixart-alpha", "PixArt-alpha/PixArt-XL-2-1024-MS", "pixart_alpha"),
        Model("CogVideoX-5B", "cogvideox-5b", "THUDM/CogVideoX-5b", "cogvideox_5b"),
        Model("Wan2.1-T2V-14B", "wan2.1-t2v-14b", "Wan-AI/Wan2.1-T2V-14B", "wan2_1_14b"),
        Model("Wan2.1-T2V-1.3B", "wan2.1-t2v-1.3b", "Wan-AI/Wan2.1-T2V-1.3B", "wan2_1_1_3b"),
        Model("SAM ViT-H", "sam-vit-huge", "facebook/sam-vit-huge", "sam_vit_huge"),
        Model("DETR-ResNet-50", "detr-resnet-50", "facebook/detr-resnet-50", "detr_resnet50"),
        Model("MusicGen-large", "musicgen-large", "facebook/musicgen-large", "musicgen_large"),
        Model("Snowflake Arctic", "snowflake-arctic", "Snowflake/snowflake-arctic-instruct", "arctic"),
        Model("Codestral-22B", "codestral-22b", "mistralai/Codestral-22B-v0.1", "codestral_22b"),
        Model("Gemma-7B", "gemma-7b", "google/gemma-7b", "gemma_7b"),
        Model("Llama-2-13B", "llama-2-13b", "meta-llama/Llama-2-13b-hf", "llama2_13b"),
        Model("GPT-J-6B", "gpt-j-6b", "EleutherAI/gpt-j-6b", "gpt_j_6b"),
        Model("GPT-NeoX-20B", "gpt-neox-20b", "EleutherAI/gpt-neox-20b", "gpt_neox_20b"),
        Model("Flan-T5-XXL", "flan-t5-xxl", "google/flan-t5-xxl", "flan_t5_xxl"),
        Model("ModernBERT-large", "modernbert-large", "answerdotai/ModernBERT-large", "modernbert_large"),
        Model("ESM-2 650M", "esm2-650m", "facebook/esm2_t33_650M_UR50D", "esm2_650m"),
        Model("SmolLM2-135M", "smollm2-135m", "HuggingFaceTB/SmolLM2-135M", "smollm2_135m"),
        Model("BLOOM-176B", "bloom-176b", "bigscience/bloom", "bloom_176b"),
        Model("InternViT-6B", "internvit-6b", "OpenGVLab/InternViT-6B-448px-V1-5", "internvit_6b"),
        Model("Yi-1.5-9B", "yi-1.5-9b", "01-ai/Yi-1.5-9B", "yi1_5_9b"),
        Model("DeepSeek-V2", "deepseek-v2", "deepseek-ai/DeepSeek-V2", "deepseek_v2"),
        Model("Granite-3.0-2B", "granite-3.0-2b", "ibm-granite/granite-3.0-2b-instruct", "granite3_2b"),
        Model("StarCoder2-3B", "starcoder2-3b", "bigcode/starcoder2-3b", "starcoder2_3b"),
        Model("OPT-30B", "opt-30b", "facebook/opt-30b", "opt_30b"),
        Model("Falcon-180B", "falcon-180b", "tiiuae/falcon-180B", "falcon_180b"),
        Model("LLaVA-1.5-7B", "llava-1.5-7b", "llava-hf/llava-1.5-7b-hf", "llava1_5_7b"),
        Model("GLM-4-9B", "glm-4-9b", "THUDM/glm-4-9b-chat", "glm4_9b"),
        Model("InternLM2-20B", "internlm2-20b", "internlm/internlm2-chat-20b", "internlm2_20b"),
        Model("DeepSeek-Coder-33B", "deepseek-coder-33b", "deepseek-ai/deepseek-coder-33b-base", "deepseek_coder_33b"),
        Model("Mamba-130M", "mamba-130m", "state-spaces/mamba-130m-hf", "mamba_130m"),
        Model("GPT-2 medium", "gpt2-medium", "openai-community/gpt2-medium", "gpt2_medium"),
        Model("GPT-2 large", "gpt2-large", "openai-community/gpt2-large", "gpt2_large"),
        Model("Pythia-1.4B", "pythia-1.4b", "EleutherAI/pythia-1.4b", "pythia_1_4b"),
        Model("OLMo-2-32B", "olmo-2-32b", "allenai/OLMo-2-0325-32B", "olmo2_32b"),
        Model("ViT-H/14", "vit-huge-patch14-224", "google/vit-huge-patch14-224-in21k", "vit_huge_patch14_224"),
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
        Model("gpt-oss-20b", "gpt-oss-20b", "openai/gpt-oss-20b", "gpt_oss_20b"),
        Model("Mistral-Nemo-12B", "mistral-nemo-12b", "mistralai/Mistral-Nemo-Base-2407", "mistral_nemo_12b"),
        Model("Mistral-Large-2", "mistral-large-2", "mistralai/Mistral-Large-Instruct-2407", "mistral_large_2"),
        Model("Mixtral-8x22B", "mixtral-8x22b", "mistralai/Mixtral-8x22B-Instruct-v0.1", "mixtral_8x22b"),
        Model("Phi-3-mini", "phi-3-mini", "microsoft/Phi-3-mini-4k-instruct", "phi3_mini"),
        Model("Phi-4", "phi-4", "microsoft/phi-4", "phi4"),
        Model("SmolLM2-360M", "smollm2-360m", "HuggingFaceTB/SmolLM2-360M", "smollm2_360m"),
        Model("SmolLM2-1.7B", "smollm2-1.7b", "HuggingFaceTB/SmolLM2-1.7B", "smollm2_1_7b"),
        Model("OLMo-2-7B", "olmo-2-7b", "allenai/OLMo-2-1124-7B", "olmo2_7b"),
        Model("OLMo-2-13B", "olmo-2-13b", "allenai/OLMo-2-1124-13B", "olmo2_13b"),
        Model("DeepSeek-R1", "deepseek-r1", "deepseek-ai/DeepSeek-R1", "deepseek_r1"),
        Model("Llama-3.3-70B", "llama-3.3-70b", "meta-llama/Llama-3.3-70B-Instruct", "llama3_3_70b"),
        Model("GPT-2", "gpt2", "openai-community/gpt2", "gpt2"),
        Model("GPT-2 XL", "gpt2-xl", "openai-community/gpt2-xl", "gpt2_xl"),
        Model("Phi-2", "phi-2", "microsoft/phi-2", "phi2"),
        Model("Falcon-7B", "falcon-7b", "tiiuae/falcon-7b", "falcon_7b"),
        Model("StableLM-2-1.6B", "stablelm-2-1.6b", "stabilityai/stablelm-2-1_6b", "stablelm_2_1_6b"),
        Model("SegFormer-B5", "segformer-b5", "nvidia/segformer-b5-finetuned-cityscapes-1024-1024", "segformer_b5"),
        Model("Whisper large-v3", "whisper-large-v3", "openai/whisper-large-v3", "whisper_large_v3"),
        Model("Command-R", "command-r", "CohereForAI/c4ai-command-r-v01", "command_r"),
        Model("Nemotron-H-8B", "nemotron-h-8b", "nvidia/Nemotron-H-8B-Base-8K", "nemotron_h_8b"),
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
    _rmsnorm("qwen2.5-1.5b", 1536, 1e-6, _NORM_LAYERS, _DECODE_PREFILL),
    _rmsnorm("gemma-3-1b", 1152, 1e-6, _GEMMA_LAYERS, _DECODE_PREFILL, True),
    _rmsnorm("smollm2-135m", 576, 1e-5, _NORM_LAYERS, _DECODE_PREFILL + "; 32768 and 65536: two and four such "
             "chunks in one batch", tokens=SERVING + (32768, 65536)),  # fmt: skip
    _rmsnorm("gemma-7b", 3072, 1e-6,
             "input_layernorm, post_attention_layernorm and the final norm; Gemma scales by 1 + weight",
             _DECODE_PREFILL, True),  # fmt: skip
    _rmsnorm("flan-t5-xxl", 4096, 1e-6, "T5LayerNorm (a scale, no mean, no bias) before each encoder sublayer and "
             "the final encoder norm, d_model 4096, layer_norm_epsilon 1e-6",
             "num_tokens = batch x sequence: one 128-token prompt to 256 sequences of 512 tokens",
             tokens=(128, 512, 4096, 16384, 65536, 131072), prefix="encoder_"),  # fmt: skip
    _rmsnorm("internvit-6b", 3200, 1e-6, "norm1 and norm2 of the 45 vision blocks (norm_type rms_norm, hidden 3200)",
             "num_tokens = 1025 per 448 px tile (1024 patches + class): 1 tile, 13 (12 tiles and a thumbnail), 2 and 4 "
             "such images; CI: a 256-token slice and one tile", tokens=(256, 1025, 13325, 26650, 53300)),  # fmt: skip
    _rmsnorm("wan2.1-t2v-14b", 5120, 1e-6, "norm_q and norm_k of self-attention, over all 40 heads x 128 at once "
             "(qk_norm, eps 1e-6)", "num_tokens = 21 latent frames x 1x2x2 patches: 32760 for 81 frames at 480x832, "
             "75600 at 720x1280; CI: 256- and 512-token slices", tokens=(256, 512, 32760, 75600), prefix="qk_"),
    _rmsnorm("mamba-130m", 768, 1e-5, "the pre-mixer norm of each of the 24 Mamba blocks and norm_f (hidden_size 768, "
             "layer_norm_epsilon 1e-5)", _DECODE_PREFILL + "; 32768 and 65536: two and four such chunks in one batch",
             tokens=SERVING + (32768, 65536)),  # fmt: skip
]


def _fused_add(tag, hidden, eps, checked=""):
    """checked: where the config values were checked, said in the description."""
    name = f"{tag_name(tag)}_fused_add_rmsnorm_h{hidden}"
    layer = "the residual add + post_attention_layernorm / next input_layernorm that vLLM and SGLang fuse"
    return Entry("fused_add_rmsnorm", name, M[tag], {"hidden_size": hidden, "eps": eps},
                 layer + (f"; {checked}" if checked else ""), _DECODE_PREFILL, extra_tags=("fused",))  # fmt: skip


FAMILY += [
    _fused_add("smollm2-1.7b", 2048, 1e-5),
    _fused_add("phi-3-mini", 3072, 1e-5),
    _fused_add("qwen3-32b", 5120, 1e-6),
    _fused_add("llama-4-scout-17b-16e", 5120, 1e-5),
    _fused_add("mixtral-8x22b", 6144, 1e-5, "config values checked against AI-Hypercomputer/maxtext "
               "src/maxtext/configs/models/mixtral-8x22b.yml"),
    _fused_add("kimi-k2", 7168, 1e-6),
    _fused_add("qwen2.5-72b", 8192, 1e-6),
]


def _rmsnorm_backward(tag, hidden, eps, tokens=TRAINING, layer=_NORM_LAYERS):
    name = f"{tag_name(tag)}_rmsnorm_backward_h{hidden}"
    shapes = _TRAIN.replace("(128, 512)", "(" + ", ".join(map(str, tokens[:2])) + ")")
    return Entry("rmsnorm_backward", name, M[tag], {"hidden_size": hidden, "eps": eps},
                 layer, shapes, tokens)  # fmt: skip


FAMILY += [
    _rmsnorm_backward("smollm2-360m", 960, 1e-5),
    _rmsnorm_backward("qwen3-0.6b", 1024, 1e-6),
    _rmsnorm_backward("llama-3.2-1b", 2048, 1e-5),
    _rmsnorm_backward("llama-3.2-3b", 3072, 1e-5),
    _rmsnorm_backward("qwen2.5-7b", 3584, 1e-6),
    _rmsnorm_backward("olmo-2-13b", 5120, 1e-6, layer="OLMo 2 normalizes sublayer outputs: post_attention_layernorm, "
                      "post_feedforward_layernorm and the final norm (hidden_size 5120, rms_norm_eps 1e-6 checked "
                      "against mlc-ai/mlc-llm python/mlc_llm/model/model_preset.py)"),
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
    _gemm("falcon-7b", "query_key_value", 4672, 4544,
          "fused multi-query QKV projection: (71 query heads + 1 key + 1 value head) x 64 = 4672, hidden_size 4544"),
    _gemm("phi-2", "qkv_proj", 7680, 2560, "fused QKV projection with bias: 3 x 32 heads x 80 = 7680, hidden 2560",
          bias=True),  # fmt: skip
    _gemm("phi-2", "fc1", 10240, 2560, "MLP fc1 with bias: hidden_size 2560 -> intermediate_size 10240 (GELU follows)",
          bias=True),  # fmt: skip
    _gemm("gpt2-xl", "c_attn", 4800, 1600, "fused attention projection c_attn with bias: 3 x n_embd 1600",
          "num_tokens from decode batches (1, 7, 64) to full 1024-token contexts of a batch of 8",
          (1, 7, 64, 256, 1024, 4096, 8192), bias=True),  # fmt: skip
    _gemm("mixtral-8x22b", "qkv_proj", 1024, 6144,
          "fused QKV projection on one of 8 tensor-parallel ranks: (48 + 2 x 8) heads x 128 / 8 = 1024, hidden 6144", tp=8),
    _gemm("command-r", "qkv_proj", 3072, 8192,
          "fused QKV projection of its multi-head attention (64 query and 64 KV heads x 128) on one of 8 "
          "tensor-parallel ranks: 3 x 8192 / 8 = 3072, hidden_size 8192", tp=8),  # fmt: skip
    _gemm("nemotron-h-8b", "up_proj", 5376, 4096,
          "MLP up projection (squared-ReLU MLP, no gate) on one of 4 tensor-parallel ranks: intermediate_size 21504 / 4 "
          "= 5376, hidden_size 4096", tp=4),  # fmt: skip
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
    _gemm("yi-34b", "qkv_proj", 1152, 7168,
          "fused QKV projection on one of 8 tensor-parallel ranks: (56 + 2 x 8) heads x 128 / 8 = 1152 outputs, "
          "hidden_size 7168 (config.json)", tp=8),  # fmt: skip
    _gemm("codellama-34b", "down_proj", 8192, 2752,
          "MLP down projection on one of 8 tensor-parallel ranks: intermediate_size 22016 / 8 = 2752 -> hidden_size "
          "8192 (config.json)", tp=8),  # fmt: skip
    _gemm("granite-3.0-8b", "down_proj", 4096, 12800,
          "MLP down projection, the whole layer: intermediate_size 12800 -> hidden_size 4096 (config.json)",
          cpu_rows=256),  # fmt: skip
    _gemm("baichuan2-13b", "w_pack", 7680, 5120,
          "W_pack, the fused QKV projection of its multi-head attention (40 heads x 128, no bias), on one of 2 "
          "tensor-parallel ranks: 3 x 5120 / 2 = 7680 outputs, hidden_size 5120 (config.json)", tp=2, cpu_rows=256),  # fmt: skip
    _gemm("chatglm3-6b", "query_key_value", 4608, 4096,
          "fused QKV projection with bias (add_qkv_bias): 32 query heads + 2 x multi_query_group_num 2 KV heads, "
          "kv_channels 128: 4096 + 512 = 4608 outputs, hidden_size 4096 (config.json)", bias=True),  # fmt: skip
    _gemm("starcoder2-15b", "c_fc", 6144, 6144,
          "MLP c_fc with bias (use_bias) on one of 4 tensor-parallel ranks: intermediate_size 24576 / 4 = 6144 "
          "outputs, hidden_size 6144 (GELU follows; config.json)", bias=True, tp=4, cpu_rows=256),  # fmt: skip
    _gemm("mistral-small-24b", "qkv_proj", 6144, 5120,
          "fused QKV projection, the whole layer: (32 + 2 x 8) heads x head_dim 128 = 6144 outputs, hidden_size 5120 "
          "(config.json)"),  # fmt: skip
    _gemm("falcon-40b", "query_key_value", 1152, 8192,
          "fused grouped-query QKV projection (new_decoder_architecture, no bias) on one of 8 tensor-parallel ranks: "
          "(128 query + 2 x 8 KV heads) x head_dim 64 / 8 = 1152 outputs, hidden_size 8192", tp=8),  # fmt: skip
    _gemm("llama-2-7b", "qkv_proj", 12288, 4096,
          "fused QKV projection of its multi-head attention: 3 x 32 heads x 128 = 12288 outputs, hidden_size 4096 "
          "(config.json)", cpu_rows=256),  # fmt: skip
    _gemm("deepseek-v2-lite", "kv_a_proj_with_mqa", 576, 2048,
          "MLA's joint KV down-projection: hidden_size 2048 -> kv_lora_rank 512 + qk_rope_head_dim 64 = 576 "
          "(config.json)", _DECODE_PREFILL, GEMM_TOKENS + (16384,)),  # fmt: skip
    _gemm("qwen2.5-3b", "qkv_proj", 2560, 2048,
          "fused QKV projection with bias: (16 + 2 x 2) heads x 128 = 2560 outputs, hidden_size 2048 (config.json)",
          bias=True),  # fmt: skip
    _gemm("qwen2.5-14b", "qkv_proj", 7168, 5120,
          "fused QKV projection with bias: (40 + 2 x 8) heads x 128 = 7168 outputs, hidden_size 5120 (config.json)",
          bias=True, cpu_rows=256),  # fmt: skip
    _gemm("qwen2.5-32b", "down_proj", 5120, 3456,
          "MLP down projection on one of 8 tensor-parallel ranks: intermediate_size 27648 / 8 = 3456 -> hidden_size "
          "5120 (config.json)", tp=8),  # fmt: skip
    _gemm("command-r-plus", "qkv_proj", 1792, 12288,
          "fused QKV projection on one of 8 tensor-parallel ranks: (96 + 2 x 8) heads x 128 / 8 = 1792 outputs, "
          "hidden_size 12288 (config.json)", tp=8),  # fmt: skip
    _gemm("phi-3-medium", "qkv_proj", 7680, 5120,
          "fused qkv_proj: (40 + 2 x 10) heads x 128 = 7680 outputs, hidden_size 5120 (config.json)", cpu_rows=256),
    _gemm("gemma-3-4b", "qkv_proj", 4096, 2560,
          "fused QKV projection: (8 + 2 x 4) heads x head_dim 256 = 4096 outputs, hidden_size 2560 (config.json "
          "text_config)"),  # fmt: skip
    _gemm("gemma-3-1b", "gate_up_proj", 13824, 1152,
          "fused gate and up projections: 2 x intermediate_size 6912 = 13824 outputs, hidden_size 1152 (GeGLU "
          "follows; config.json)"),  # fmt: skip
    _gemm("tinyllama-1.1b", "gate_up_proj", 11264, 2048,
          "fused gate and up projections: 2 x intermediate_size 5632 = 11264 outputs, hidden_size 2048 (config.json)"),
    _gemm("internlm2.5-7b", "wqkv", 6144, 4096,
          "wqkv, the fused QKV projection: (32 + 2 x 8) heads x 128 = 6144 outputs, hidden_size 4096 (config.json)"),
    _gemm("sdxl", "ff_proj", 10240, 1280,
          "GEGLU input projection ff.net.0.proj with bias in the UNet's 1280-channel transformer blocks: 1280 -> 2 x "
          "4 x 1280 = 10240 (unet/config.json block_out_channels [320, 640, 1280])",
          "num_tokens = batch x 32x32 latent positions of a 1024 px image: batch 1 to 32 (classifier-free guidance "
          "doubles it)", (1024, 2048, 4096, 8192, 16384, 32768), bias=True, cpu_rows=256),  # fmt: skip
    _gemm("pixart-alpha", "mlp_fc1", 4608, 1152,
          "MLP fc1 with bias of the 28 DiT blocks: hidden 1152 -> mlp_ratio 4 x 1152 = 4608 (GELU tanh follows)",
          "num_tokens = 2x2 patches of the latent: 256 (256 px, the 256 px checkpoint), 1024 (512 px), 4096 per 1024 "
          "px image, batches of 2 to 8 images", (256, 1024, 4096, 8192, 16384, 32768), bias=True, cpu_rows=256),  # fmt: skip
    _gemm("cogvideox-5b", "ff_proj", 12288, 3072,
          "feed-forward input projection ff.net.0.proj with bias: 48 heads x 64 = 3072 -> 12288 (GELU tanh follows; "
          "transformer/config.json)", "num_tokens: 226 text + 13 latent frames x 30 x 45 patches = 17776 for one "
          "49-frame 480x720 video, 35552 with classifier-free guidance; CI: 256- and 1024-token slices",
          (256, 1024, 17776, 35552), bias=True, cpu_rows=256),  # fmt: skip
    _gemm("wan2.1-t2v-14b", "ffn_in", 13824, 5120,
          "FFN input projection with bias: dim 5120 -> ffn_dim 13824 (GELU tanh follows; config.json)",
          "num_tokens = 21 latent frames x 1x2x2 patches: 32760 for 81 frames at 480x832, 75600 at 720x1280; CI: "
          "256- and 512-token slices", (256, 512, 32760, 75600), bias=True, cpu_rows=256),  # fmt: skip
    _gemm("wan2.1-t2v-1.3b", "ffn_in", 8960, 1536,
          "FFN input projection with bias: dim 1536 -> ffn_dim 8960 (GELU tanh follows; config.json)",
          "num_tokens = 21 latent frames x 1x2x2 patches: 32760 for 81 frames at 480x832, 65520 with classifier-free "
          "guidance; CI: 128- and 256-token slices", (128, 256, 32760, 65520), bias=True),  # fmt: skip
    _gemm("sam-vit-huge", "vision_qkv", 3840, 1280,
          "image-encoder fused qkv with bias: 3 x 16 heads x 80 = 3840, hidden_size 1280 (vision_config)",
          "num_tokens: one and four 14x14 attention windows (196, 784) for CI, then 64x64 = 4096 patch tokens of a "
          "1024 px image, batches of 1 to 16 images", (196, 784, 4096, 8192, 16384, 32768, 65536), bias=True),  # fmt: skip
    _gemm("detr-resnet-50", "encoder_fc1", 2048, 256,
          "transformer encoder feed-forward fc1 with bias: d_model 256 -> encoder_ffn_dim 2048 (ReLU follows)",
          "num_tokens = batch x 25 x 34 = 850 stride-32 features of an 800x1066 image: batches of 1 to 64",
          (850, 1700, 6800, 13600, 27200, 54400), bias=True),  # fmt: skip
    _gemm("musicgen-large", "decoder_fc1", 8192, 2048,
          "decoder feed-forward fc1 (no bias): hidden_size 2048 -> ffn_dim 8192 (GELU follows; decoder config)",
          "num_tokens: decode batches (1, 8, 64), then teacher-forced 30 s clips of 1500 frames (50 Hz) x 1, 2, 8, 16",
          (1, 8, 64, 1500, 3000, 12000, 24000)),  # fmt: skip
    _gemm("snowflake-arctic", "dense_gate_up_proj", 9728, 7168,
          "fused gate and up projections of the dense residual MLP beside the MoE: 2 x intermediate_size 4864 = "
          "9728 outputs, hidden_size 7168 (config.json)", cpu_rows=256),  # fmt: skip
    _gemm("codestral-22b", "down_proj", 6144, 4096,
          "MLP down projection on one of 4 tensor-parallel ranks: intermediate_size 16384 / 4 = 4096 -> hidden_size "
          "6144 (config.json)", tp=4),  # fmt: skip
    _gemm("gemma-7b", "gate_up_proj", 6144, 3072,
          "fused gate and up projections on one of 8 tensor-parallel ranks: 2 x intermediate_size 24576 / 8 = 6144 "
          "outputs, hidden_size 3072 (GeGLU follows; config.json)", tp=8),  # fmt: skip
    _gemm("llama-2-13b", "qkv_proj", 15360, 5120,
          "fused QKV projection of its multi-head attention: 3 x 40 heads x 128 = 15360 outputs, hidden_size 5120 "
          "(config.json)", cpu_rows=256),  # fmt: skip
    _gemm("gpt-j-6b", "fc_in", 16384, 4096,
          "MLP fc_in with bias: n_embd 4096 -> n_inner 4 x 4096 = 16384 (GELU tanh follows; config.json)",
          bias=True, cpu_rows=256),  # fmt: skip
    _gemm("gpt-neox-20b", "query_key_value", 4608, 6144,
          "fused QKV projection with bias on one of 4 tensor-parallel ranks: 3 x 64 heads x 96 / 4 = 4608 outputs, "
          "hidden_size 6144 (config.json)", bias=True, tp=4),  # fmt: skip
    _gemm("flan-t5-xxl", "encoder_wo", 4096, 10240,
          "encoder feed-forward output projection wo (no bias): d_ff 10240 -> d_model 4096 (config.json), the text "
          "encoder that FLUX.1 and SD3 use as T5-XXL", "num_tokens = batch x sequence: one and two 128-token prompts, then "
          "up to 256 sequences of 512 tokens", (128, 256, 4096, 16384, 65536, 131072), cpu_rows=256),  # fmt: skip
    _gemm("modernbert-large", "mlp_wi", 5248, 1024,
          "MLP input projection Wi (no bias): hidden 1024 -> 2 x intermediate_size 2624 = 5248 (GeGLU follows; "
          "config.json)", "num_tokens = batch x sequence: a 128-token query, a 512-token passage, then up to 32 "
          "sequences of 8192 tokens", (128, 512, 8192, 32768, 131072, 262144)),  # fmt: skip
    _gemm("esm2-650m", "intermediate_dense", 5120, 1280,
          "feed-forward intermediate dense layer with bias: hidden 1280 -> intermediate_size 5120 (GELU follows; "
          "config.json)", "num_tokens = batch x residues: a 128-residue domain, a 512-residue protein, then batches of 8 to 128 "
          "1024-residue proteins", (128, 512, 8192, 32768, 131072), bias=True),  # fmt: skip
    _gemm("yi-1.5-9b", "qkv_proj", 5120, 4096,
          "fused QKV projection: (32 + 2 x 4) heads x 128 = 5120 outputs, hidden_size 4096 (config.json)"),
    _gemm("deepseek-v2", "kv_a_proj_with_mqa", 576, 5120,
          "MLA's joint KV down-projection: hidden_size 5120 -> kv_lora_rank 512 + qk_rope_head_dim 64 = 576 "
          "(config.json)", _DECODE_PREFILL, GEMM_TOKENS + (16384,)),  # fmt: skip
    _gemm("granite-3.0-2b", "qkv_proj", 3072, 2048,
          "fused QKV projection: (32 + 2 x 8) heads x 64 = 3072 outputs, hidden_size 2048 (config.json)"),
    _gemm("starcoder2-3b", "c_fc", 12288, 3072,
          "MLP c_fc with bias (use_bias): hidden 3072 -> intermediate_size 12288 (GELU follows; config.json)",
          bias=True, cpu_rows=256),  # fmt: skip
    _gemm("opt-30b", "fc1", 3584, 7168,
          "decoder feed-forward fc1 with bias on one of 8 tensor-parallel ranks: ffn_dim 28672 / 8 = 3584 outputs, "
          "hidden_size 7168 (ReLU follows; config.json)", bias=True, tp=8),  # fmt: skip
    _gemm("llava-1.5-7b", "mm_projector_fc1", 4096, 1024,
          "multi-modal projector linear_1 with bias: CLIP ViT-L/14-336 features 1024 -> the LLM's hidden_size 4096 "
          "(GELU and linear_2 follow; mlp2x_gelu)", "num_tokens = 576 patch features per 336 px image: 1, 2, 8, 32 "
          "and 128 images", (576, 1152, 4608, 18432, 73728), bias=True, cpu_rows=256),  # fmt: skip
    _gemm("glm-4-9b", "dense_4h_to_h", 4096, 13696,
          "MLP output projection dense_4h_to_h (no bias): ffn_hidden_size 13696 -> hidden_size 4096 (config.json)",
          cpu_rows=256),  # fmt: skip
    _gemm("internlm2-20b", "wqkv", 8192, 6144,
          "wqkv, the fused QKV projection: (48 + 2 x 8) heads x 128 = 8192 outputs, hidden_size 6144 (config.json)",
          cpu_rows=256),  # fmt: skip
    _gemm("deepseek-coder-33b", "down_proj", 7168, 2400,
          "MLP down projection on one of 8 tensor-parallel ranks: intermediate_size 19200 / 8 = 2400 -> hidden_size "
          "7168 (config.json)", tp=8),  # fmt: skip
    _gemm("olmo-2-32b", "gate_up_proj", 6912, 5120,
          "fused gate and up projections on one of 8 tensor-parallel ranks: 2 x intermediate_size 27648 / 8 = 6912 "
          "outputs, hidden_size 5120 (config.json)", tp=8, cpu_rows=256),  # fmt: skip
]


def _fp8_block(tag, layer_name, n, k, layer, tp=1, hf_id=""):
    """DeepSeek-V3's fine-grained FP8 recipe: 1x128 activation tiles, 128x128 weight blocks, fp32 scales.
    hf_id: the FP8 checkpoint, where it is published apart from the model (Qwen/Qwen3-14B-FP8)."""
    shard = f"_tp{tp}" if tp > 1 else ""
    name = f"{tag_name(tag)}_fp8_{layer_name}{shard}_n{n}_k{k}"
    return Entry("gemm_fp8_block_scale", name, M[tag], {"n": n, "k": k}, layer,
                 "num_tokens from decode batches (1, 7, 64) to prefill chunks (up to 16384)",
                 GEMM_TOKENS + (16384,), ("quantization:fp8_block128",), hf_id)  # fmt: skip


FAMILY += [
    _fp8_block("deepseek-v3", "q_a_proj", 1536, 7168, "MLA query down-projection: hidden_size 7168 -> q_lora_rank 1536"),
    _fp8_block("deepseek-v3", "q_b_proj", 3072, 1536,
               "MLA query up-projection on one of 8 tensor-parallel ranks: q_lora_rank 1536 -> 128 heads x (128 + 64) "
               "/ 8 = 3072", tp=8),  # fmt: skip
    _fp8_block("deepseek-v3", "dense_gate_up_proj", 4608, 7168,
               "fused gate and up projections of the dense MLP of the first 3 layers on one of 8 tensor-parallel "
               "ranks: 2 x intermediate_size 18432 / 8 = 4608 outputs, hidden_size 7168", tp=8),  # fmt: skip
    _fp8_block("deepseek-v3", "dense_down_proj", 7168, 2304,
               "down projection of the dense MLP of the first 3 layers on one of 8 tensor-parallel ranks: "
               "intermediate_size 18432 / 8 = 2304 -> hidden_size 7168", tp=8),  # fmt: skip
    _fp8_block("kimi-k2", "q_b_proj", 1536, 1536,
               "MLA query up-projection on one of 8 tensor-parallel ranks: q_lora_rank 1536 -> 64 heads x (128 + 64) "
               "/ 8 = 1536 (the checkpoint ships 128x128 block-scaled FP8 weights)", tp=8),  # fmt: skip
    _fp8_block("kimi-k2", "o_proj", 7168, 1024,
               "attention output projection on one of 8 tensor-parallel ranks: 64 heads x v_head_dim 128 / 8 = 1024 "
               "-> hidden_size 7168", tp=8),  # fmt: skip
    _fp8_block("qwen3-8b", "down_proj", 4096, 1536,
               "MLP down projection of Qwen3-8B-FP8 (block-128 FP8) on one of 8 tensor-parallel ranks: "
               "intermediate_size 12288 / 8 = 1536 -> hidden_size 4096", tp=8, hf_id="Qwen/Qwen3-8B-FP8"),
    _fp8_block("qwen3-32b", "qkv_proj", 1280, 5120,
               "fused QKV projection of Qwen3-32B-FP8 (block-128 FP8) on one of 8 tensor-parallel ranks: "
               "(64 + 2 x 8) heads x 128 / 8 = 1280 outputs, hidden_size 5120", tp=8, hf_id="Qwen/Qwen3-32B-FP8"),
    _fp8_block("qwen3-1.7b", "qkv_proj", 4096, 2048,
               "fused QKV projection of Qwen3-1.7B-FP8 (block-128 FP8): (16 + 2 x 8) heads x head_dim 128 = 4096 "
               "outputs, hidden_size 2048 (config.json)", hf_id="Qwen/Qwen3-1.7B-FP8"),  # fmt: skip
    _fp8_block("qwen3-1.7b", "down_proj", 2048, 6144,
               "MLP down projection of Qwen3-1.7B-FP8 (block-128 FP8): intermediate_size 6144 -> hidden_size 2048",
               hf_id="Qwen/Qwen3-1.7B-FP8"),  # fmt: skip
    _fp8_block("qwen3-14b", "qkv_proj", 7168, 5120,
               "fused QKV projection of Qwen3-14B-FP8 (block-128 FP8): (40 + 2 x 8) heads x head_dim 128 = 7168 "
               "outputs, hidden_size 5120 (config.json)", hf_id="Qwen/Qwen3-14B-FP8"),  # fmt: skip
    _fp8_block("qwen3-14b", "gate_up_proj", 8704, 5120,
               "fused gate and up projections of Qwen3-14B-FP8 on one of 4 tensor-parallel ranks: 2 x "
               "intermediate_size 17408 / 4 = 8704 outputs, hidden_size 5120", tp=4, hf_id="Qwen/Qwen3-14B-FP8"),
    _fp8_block("qwen3-14b", "down_proj", 5120, 4352,
               "MLP down projection of Qwen3-14B-FP8 on one of 4 tensor-parallel ranks: intermediate_size 17408 / 4 "
               "= 4352 -> hidden_size 5120", tp=4, hf_id="Qwen/Qwen3-14B-FP8"),  # fmt: skip
    _fp8_block("qwen3-4b", "gate_up_proj", 19456, 2560,
               "fused gate and up projections of Qwen3-4B-FP8 (block-128 FP8), the whole layer: 2 x intermediate_size "
               "9728 = 19456 outputs, hidden_size 2560", hf_id="Qwen/Qwen3-4B-FP8"),  # fmt: skip
    _fp8_block("qwen3-32b", "gate_up_proj", 6400, 5120,
               "fused gate and up projections of Qwen3-32B-FP8 on one of 8 tensor-parallel ranks: 2 x "
               "intermediate_size 25600 / 8 = 6400 outputs, hidden_size 5120", tp=8, hf_id="Qwen/Qwen3-32B-FP8"),
    _fp8_block("qwen3-32b", "down_proj", 5120, 3200,
               "MLP down projection of Qwen3-32B-FP8 on one of 8 tensor-parallel ranks: intermediate_size 25600 / 8 "
               "= 3200 -> hidden_size 5120", tp=8, hf_id="Qwen/Qwen3-32B-FP8"),  # fmt: skip
    _fp8_block("qwen3-235b-a22b", "qkv_proj", 2304, 4096,
               "fused QKV projection of Qwen3-235B-A22B-FP8 on one of 4 tensor-parallel ranks: (64 + 2 x 4) heads x "
               "head_dim 128 / 4 = 2304 outputs, hidden_size 4096", tp=4, hf_id="Qwen/Qwen3-235B-A22B-FP8"),
    _fp8_block("qwen3-235b-a22b", "o_proj", 4096, 2048,
               "attention output projection of Qwen3-235B-A22B-FP8 on one of 4 tensor-parallel ranks: 64 heads x 128 "
               "/ 4 = 2048 -> hidden_size 4096", tp=4, hf_id="Qwen/Qwen3-235B-A22B-FP8"),  # fmt: skip
    _fp8_block("qwen3-coder-480b-a35b", "qkv_proj", 1792, 6144,
               "fused QKV projection of Qwen3-Coder-480B-A35B-Instruct-FP8 on one of 8 tensor-parallel ranks: (96 + "
               "2 x 8) heads x head_dim 128 / 8 = 1792 outputs, hidden_size 6144 (config.json)", tp=8,
               hf_id="Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8"),  # fmt: skip
    _fp8_block("qwen3-coder-480b-a35b", "o_proj", 6144, 1536,
               "attention output projection of Qwen3-Coder-480B-A35B-Instruct-FP8 on one of 8 tensor-parallel ranks: "
               "96 heads x 128 / 8 = 1536 -> hidden_size 6144", tp=8,
               hf_id="Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8"),  # fmt: skip
    _fp8_block("qwen3-next-80b-a3b", "qkv_proj", 9216, 2048,
               "fused QKV projection of a full-attention layer (every 4th) of Qwen3-Next-80B-A3B-Instruct-FP8: the "
               "query with its output gate 2 x 16 heads x head_dim 256 = 8192, plus 2 x 2 KV heads x 256 = 1024, "
               "hidden_size 2048 (config.json)", hf_id="Qwen/Qwen3-Next-80B-A3B-Instruct-FP8"),  # fmt: skip
    _fp8_block("qwen3-next-80b-a3b", "o_proj", 2048, 4096,
               "attention output projection of a full-attention layer of Qwen3-Next-80B-A3B-Instruct-FP8: 16 heads x "
               "head_dim 256 = 4096 -> hidden_size 2048", hf_id="Qwen/Qwen3-Next-80B-A3B-Instruct-FP8"),
    _fp8_block("minimax-m2", "qkv_proj", 2048, 3072,
               "fused QKV projection of MiniMax-M2 (released in block-128 FP8, weight_block_size [128, 128]) on one "
               "of 4 tensor-parallel ranks: (48 + 2 x 8) heads x head_dim 128 / 4 = 2048 outputs, hidden_size 3072 "
               "(config.json)", tp=4),  # fmt: skip
    _fp8_block("minimax-m2", "o_proj", 3072, 1536,
               "attention output projection of MiniMax-M2 (block-128 FP8) on one of 4 tensor-parallel ranks: 48 heads "
               "x 128 / 4 = 1536 -> hidden_size 3072", tp=4),  # fmt: skip
]


def _nvfp4(tag, hf_id, layer_name, n, k, layer, tp=8):
    """ModelOpt's NVFP4 recipe: e2m1 values, an e4m3 scale per 16 along K, one fp32 alpha."""
    shard = f"_tp{tp}" if tp > 1 else ""
    name = f"{tag_name(tag)}_nvfp4_{layer_name}{shard}_n{n}_k{k}"
    return Entry("gemm_nvfp4", name, M[tag], {"n": n, "k": k}, layer,
                 "num_tokens from decode batches (1, 7, 64) to prefill chunks (up to 16384)",
                 GEMM_TOKENS + (16384,), ("quantization:nvfp4",), hf_id)  # fmt: skip


FAMILY += [
    _nvfp4("llama-3.3-70b", "nvidia/Llama-3.3-70B-Instruct-NVFP4", "qkv_proj", 1280, 8192,
           "fused QKV projection on one of 8 tensor-parallel ranks: (64 + 2 x 8) heads x 128 / 8 = 1280 outputs, "
           "hidden_size 8192"),  # fmt: skip
    _nvfp4("llama-3.3-70b", "nvidia/Llama-3.3-70B-Instruct-NVFP4", "o_proj", 8192, 1024,
           "attention output projection on one of 8 tensor-parallel ranks: 64 heads x 128 / 8 = 1024 -> hidden 8192"),
    _nvfp4("qwen3-32b", "nvidia/Qwen3-32B-NVFP4", "o_proj", 5120, 1024,
           "attention output projection on one of 8 tensor-parallel ranks: 64 heads x 128 / 8 = 1024 -> hidden 5120"),
    _nvfp4("llama-4-scout-17b-16e", "nvidia/Llama-4-Scout-17B-16E-Instruct-NVFP4", "o_proj", 5120, 640,
           "attention output projection on one of 8 tensor-parallel ranks: 40 heads x 128 / 8 = 640 -> hidden 5120"),
    _nvfp4("llama-3.1-8b", "nvidia/Llama-3.1-8B-Instruct-NVFP4", "qkv_proj", 6144, 4096,
           "fused QKV projection, the whole layer (tensor parallel 1): (32 + 2 x 8) heads x 128 = 6144 outputs, "
           "hidden_size 4096", tp=1),  # fmt: skip
    _nvfp4("llama-3.1-8b", "nvidia/Llama-3.1-8B-Instruct-NVFP4", "down_proj", 4096, 14336,
           "MLP down projection, the whole layer: intermediate_size 14336 -> hidden_size 4096", tp=1),
    _nvfp4("llama-3.1-405b", "nvidia/Llama-3.1-405B-Instruct-NVFP4", "qkv_proj", 2304, 16384,
           "fused QKV projection on one of 8 tensor-parallel ranks: (128 + 2 x 8) heads x 128 / 8 = 2304 outputs, "
           "hidden_size 16384"),  # fmt: skip
    _nvfp4("llama-3.1-405b", "nvidia/Llama-3.1-405B-Instruct-NVFP4", "o_proj", 16384, 2048,
           "attention output projection on one of 8 tensor-parallel ranks: 128 heads x 128 / 8 = 2048 -> hidden "
           "16384"),  # fmt: skip
    _nvfp4("llama-3.3-70b", "nvidia/Llama-3.3-70B-Instruct-NVFP4", "gate_up_proj", 7168, 8192,
           "fused gate and up projections on one of 8 tensor-parallel ranks: 2 x intermediate_size 28672 / 8 = 7168 "
           "outputs, hidden_size 8192"),  # fmt: skip
    _nvfp4("llama-4-maverick-17b-128e", "nvidia/Llama-4-Maverick-17B-128E-Instruct-NVFP4", "qkv_proj", 896, 5120,
           "fused QKV projection on one of 8 tensor-parallel ranks: (40 + 2 x 8) heads x 128 / 8 = 896 outputs, "
           "hidden_size 5120 (config.json text_config)"),  # fmt: skip
    _nvfp4("llama-4-maverick-17b-128e", "nvidia/Llama-4-Maverick-17B-128E-Instruct-NVFP4", "dense_down_proj", 5120, 2048,
           "down projection of the dense MLP of every other layer (interleave_moe_layer_step 2) on one of 8 "
           "tensor-parallel ranks: intermediate_size_mlp 16384 / 8 = 2048 -> hidden_size 5120"),  # fmt: skip
    _nvfp4("qwen3-8b", "nvidia/Qwen3-8B-NVFP4", "down_proj", 4096, 12288,
           "MLP down projection, the whole layer: intermediate_size 12288 -> hidden_size 4096", tp=1),
    _nvfp4("qwen3-14b", "nvidia/Qwen3-14B-NVFP4", "qkv_proj", 7168, 5120,
           "fused QKV projection, the whole layer: (40 + 2 x 8) heads x 128 = 7168 outputs, hidden_size 5120", tp=1),
    _nvfp4("qwen3-14b", "nvidia/Qwen3-14B-NVFP4", "o_proj", 5120, 5120,
           "attention output projection, the whole layer: 40 heads x 128 = 5120 -> hidden_size 5120", tp=1),
    _nvfp4("qwen3-235b-a22b", "nvidia/Qwen3-235B-A22B-NVFP4", "qkv_proj", 1280, 4096,
           "fused QKV projection on one of 8 tensor-parallel ranks: 64 / 8 = 8 query heads and, as the 4 KV heads are "
           "fewer than the ranks, one whole replicated KV head (QKVParallelLinear in vllm-project/vllm "
           "vllm/model_executor/layers/linear.py, as in SGLang): (8 + 2 x 1) x 128 = 1280 outputs, hidden_size 4096 "
           "(64 heads, 4 KV heads, head_dim 128 checked against AI-Hypercomputer/maxtext "
           "src/maxtext/configs/models/qwen3-235b-a22b.yml)"),  # fmt: skip
]


def _sampling(tag, vocab, temperature, top_k, top_p, source):
    name = f"{tag_name(tag)}_top_k_top_p_renorm_v{vocab}"
    return Entry("top_k_top_p_renorm", name, M[tag],
                 {"vocab": vocab, "temperature": temperature, "top_k": top_k, "top_p": top_p}, source,
                 "batch_size: sequences sampled per decode step, 1 to 512", (1, 7, 32, 64, 256, 512),
                 ("phase:decode",), meta={"tolerance": RENORM_TOLERANCE})  # fmt: skip


#: Nearly every element of a renorm is an exact zero, and top-p moves at most 1 - top_p of a row's mass: a kernel
#: that never applied top-p stayed under fp32's default relative L2 bound (red-team round 73, fc01)
RENORM_TOLERANCE = {"max_atol": 1e-4, "max_rtol": 1e-4, "max_relative_l2_error": 0.01}


FAMILY += [
    _sampling("deepseek-r1", 129280, 0.6, 50, 0.95,
              "temperature 0.6 and top_p 0.95 as the model card recommends, top_k 50 (transformers' default)"),
    _sampling("qwen3-8b", 151936, 0.6, 20, 0.95, "temperature 0.6, top_k 20, top_p 0.95 from generation_config.json"),
    _sampling("qwen2.5-7b", 152064, 0.7, 20, 0.8, "temperature 0.7, top_k 20, top_p 0.8 from generation_config.json"),
    _sampling("llama-4-scout-17b-16e", 202048, 0.6, 50, 0.9,
              "temperature 0.6 and top_p 0.9 from generation_config.json, top_k 50 (transformers' default)"),
    _sampling("gemma-3-27b", 262208, 1.0, 64, 0.95, "temperature 1.0, top_k 64, top_p 0.95 from generation_config.json"),
]


def _layernorm(tag, hidden, eps, layer, shapes, tokens=SERVING, prefix=""):
    name = f"{tag_name(tag)}_{prefix}layernorm_h{hidden}"
    return Entry("layernorm", name, M[tag], {"hidden_size": hidden, "eps": eps}, layer, shapes, tokens)


_WHISPER = ("num_tokens = 1500 encoder frames per 30 s clip: 1 and 2 clips (CI), then batches of 8 to 64 clips")
FAMILY += [
    _layernorm("segformer-b5", 320, 1e-6, "the LayerNorms of the third Mix Transformer stage (hidden size 320, at 1/16 "
               "of the image resolution)", "num_tokens = (H/16)(W/16): 1024 (512 px), 1600 (640 px ADE20K), 4096 "
               "(1024 px crop), 8192 (a 1024x2048 Cityscapes image), 32768 (8 crops), 65536 (8 Cityscapes images)",
               (1024, 1600, 4096, 8192, 32768, 65536), prefix="stage3_"),  # fmt: skip
    _layernorm("bert-large-uncased", 1024, 1e-12, "the post-attention and post-FFN LayerNorms (layer_norm_eps 1e-12)",
               _ENCODER, (128, 512, 4096, 16384, 65536, 131072)),  # fmt: skip
    _layernorm("whisper-large-v3", 1280, 1e-5, "the encoder's pre-attention and pre-MLP LayerNorms (d_model 1280)",
               _WHISPER, (1500, 3000, 12000, 24000, 48000, 96000), prefix="encoder_"),  # fmt: skip
    _layernorm("stablelm-2-1.6b", 2048, 1e-5, "input_layernorm and post_attention_layernorm (LayerNorm with bias, "
               "norm_eps 1e-5)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("phi-2", 2560, 1e-5, "the one input_layernorm of each parallel attention + MLP block "
               "(layer_norm_eps 1e-5)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("falcon-7b", 4544, 1e-5, "the one input_layernorm of each parallel attention + MLP block "
               "(layer_norm_epsilon 1e-5)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("starcoder2-15b", 6144, 1e-5, "input_layernorm and post_attention_layernorm (LayerNorm with bias, "
               "norm_epsilon 1e-5, config.json)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("phi-3.5-moe", 4096, 1e-5, "input_layernorm and post_attention_layernorm (LayerNorm with bias, "
               "rms_norm_eps 1e-5 in config.json names its eps)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("falcon-40b", 8192, 1e-5, "ln_attn and ln_mlp of each parallel attention + MLP block "
               "(new_decoder_architecture, layer_norm_epsilon 1e-5)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("bloom-176b", 14336, 1e-5, "input_layernorm and post_attention_layernorm (hidden_size 14336, "
               "layer_norm_epsilon 1e-5)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("falcon-180b", 14848, 1e-5, "ln_attn and ln_mlp of each parallel attention + MLP block (hidden_size "
               "14848, layer_norm_epsilon 1e-5)", _DECODE_PREFILL),  # fmt: skip
    _layernorm("vit-huge-patch14-224", 1280, 1e-12, "layernorm_before and layernorm_after of the 32 encoder blocks "
               "(hidden_size 1280, layer_norm_eps 1e-12)", "num_tokens = 257 per 224 px image (16x16 patches + class): "
               "batches of 1 to 256 images", (257, 2056, 16448, 32896, 65792)),  # fmt: skip
]


def _layernorm_backward(tag, hidden, eps, layer, shapes=_TRAIN, tokens=TRAINING):
    name = f"{tag_name(tag)}_layernorm_backward_h{hidden}"
    return Entry("layernorm_backward", name, M[tag], {"hidden_size": hidden, "eps": eps}, layer, shapes, tokens)


FAMILY += [
    _layernorm_backward("gpt2", 768, 1e-5, "ln_1, ln_2 and ln_f of GPT-2 small (n_embd 768, layer_norm_epsilon 1e-5)",
                        "num_tokens = micro-batch x n_ctx 1024: pre-training batches of 1 to 16 sequences, short "
                        "fine-tuning samples (128, 512)"),  # fmt: skip
    _layernorm_backward("bert-large-uncased", 1024, 1e-12, "the post-attention and post-FFN LayerNorms "
                        "(layer_norm_eps 1e-12)", "num_tokens = batch x 128 or 512 tokens, pre-training and "
                        "fine-tuning"),  # fmt: skip
    _layernorm_backward("whisper-large-v3", 1280, 1e-5, "the encoder's LayerNorms, fine-tuning (d_model 1280)",
                        _WHISPER.replace("then batches of 8 to 64 clips", "then batches of 8 to 32 clips"),
                        (1500, 3000, 12000, 24000, 48000)),  # fmt: skip
    _layernorm_backward("gpt2-xl", 1600, 1e-5, "ln_1, ln_2 and ln_f of GPT-2 XL (n_embd 1600)",
                        "num_tokens = micro-batch x n_ctx 1024: pre-training batches of 1 to 16 sequences, short "
                        "fine-tuning samples (128, 512)"),  # fmt: skip
    _layernorm_backward("pythia-1.4b", 2048, 1e-5, "input_layernorm and post_attention_layernorm of the parallel "
                        "attention + MLP blocks (hidden_size 2048, layer_norm_eps 1e-5)",
                        "num_tokens = micro-batch x 2048-token sequences, as Pythia was trained, and short "
                        "fine-tuning samples (128, 512)"),  # fmt: skip
]


def _linear_backward(tag, layer_name, n, k, layer, shapes=_TRAIN, tokens=TRAINING):
    name = f"{tag_name(tag)}_{layer_name}_linear_backward_n{n}_k{k}"
    return Entry("linear_backward", name, M[tag], {"n": n, "k": k}, layer, shapes, tokens)


FAMILY += [
    _linear_backward("gpt2", "c_fc", 3072, 768, "the MLP's first projection c_fc, n_embd 768 -> 4 x 768 = 3072",
                     "num_tokens = micro-batch x n_ctx 1024: pre-training batches of 1 to 16 sequences, short "
                     "fine-tuning samples (128, 512)"),  # fmt: skip
    _linear_backward("smollm2-360m", "qkv_proj", 1600, 960,
                     "fused QKV projection: (15 + 2 x 5) heads x 64 = 1600 outputs, hidden_size 960"),
    _linear_backward("qwen3-0.6b", "down_proj", 1024, 3072,
                     "MLP down projection: intermediate_size 3072 -> hidden_size 1024"),
    _linear_backward("llama-3.2-1b", "o_proj", 2048, 2048,
                     "attention output projection: 32 heads x 64 = 2048 -> hidden_size 2048"),
    _linear_backward("gpt2-medium", "c_fc", 4096, 1024, "the MLP's first projection c_fc, n_embd 1024 -> 4 x 1024 = "
                     "4096 (its bias gradient, a column sum of grad_output, is left out)", "num_tokens = micro-batch x n_ctx 1024: pre-training batches of 1 to 16 sequences, short "
                     "fine-tuning samples (128, 512)"),  # fmt: skip
    _linear_backward("gpt2-large", "c_attn", 3840, 1280, "the fused attention projection c_attn, n_embd 1280 -> 3 x "
                     "1280 = 3840 (its bias gradient, a column sum of grad_output, is left out)", "num_tokens = micro-batch x n_ctx 1024: pre-training batches of 1 to 16 sequences, short "
                     "fine-tuning samples (128, 512)"),  # fmt: skip
    _linear_backward("pythia-1.4b", "query_key_value", 6144, 2048, "the fused query_key_value projection, hidden 2048 "
                     "-> 3 x 16 heads x 128 = 6144 (its bias gradient, a column sum of grad_output, is left out)",
                     "num_tokens = micro-batch x 2048-token sequences, as Pythia was trained, and short fine-tuning "
                     "samples (128, 512)"),  # fmt: skip
]


def _mxfp4_experts(tag, proj, n, k, experts, top_k, layer, tp=1):
    """gpt-oss's routed experts in the checkpoint's own MXFP4: e2m1 weights, one e8m0 scale per 32 along K, a bf16
    bias per expert; grouped over the experts, rows sorted by expert. The CI workloads hold one expert."""
    shard = f"_tp{tp}" if tp > 1 else ""
    name = f"{tag_name(tag)}_mxfp4_moe_{proj}_grouped_gemm{shard}_n{n}_k{k}"
    tokens = (1, 64, 1024, 8192, 16384)
    cpu_rows = 512 if n * k > 4_000_000 else None  # CI holds one expert's weight to the harness's CPU size
    axes = [{"num_rows": r, "num_experts": 1} | ({"n": cpu_rows} if cpu_rows else {}) for r in (16, 64)]
    axes += [{"num_rows": t * top_k, "num_experts": experts} | ({"n": n} if cpu_rows else {}) for t in tokens]
    shapes = (f"num_rows = tokens x {top_k}: one decode token ({top_k} rows), 64 tokens, prefill chunks to 16384 "
              "tokens; the CI workloads hold one expert")  # fmt: skip
    return Entry("grouped_gemm_mxfp4", name, M[tag], {"n": n, "k": k, "experts": experts, "top_k": top_k,
                 "proj": proj, "tp": tp, "cpu_rows": cpu_rows}, layer, shapes, (), ("moe", "quantization:mxfp4"),
                 meta={"workload_axes": axes})  # fmt: skip


_GPT_OSS = "hidden_size 2880, intermediate_size 2880 (config.json)"
FAMILY += [
    _mxfp4_experts("gpt-oss-20b", "gate_up", 5760, 2880, 32, 4,
                   f"{_GPT_OSS}: gate_up_proj, 2880 -> 2 x 2880 = 5760 (gate and up interleaved, as stored), the whole "
                   "layer on one GPU (tensor parallel 1, as the 16 GB model is served)"),  # fmt: skip
    _mxfp4_experts("gpt-oss-20b", "down", 2880, 2880, 32, 4,
                   f"{_GPT_OSS}: down_proj, intermediate 2880 -> hidden 2880, the whole layer on one GPU"),
    _mxfp4_experts("gpt-oss-20b", "gate_up", 2880, 2880, 32, 4,
                   f"{_GPT_OSS}: gate_up_proj on one of 2 tensor-parallel ranks: 5760 / 2 = 2880 outputs", tp=2),
    _mxfp4_experts("gpt-oss-20b", "down", 2880, 1440, 32, 4,
                   f"{_GPT_OSS}: down_proj on one of 2 tensor-parallel ranks: intermediate 2880 / 2 = 1440 -> hidden "
                   "2880 (a partial sum; the bias is added once, here as on rank 0)", tp=2),  # fmt: skip
    _mxfp4_experts("gpt-oss-120b", "gate_up", 5760, 2880, 128, 4,
                   f"{_GPT_OSS}: gate_up_proj, 2880 -> 2 x 2880 = 5760 (gate and up interleaved, as stored), the whole "
                   "layer on one 80 GB GPU (tensor parallel 1, as the model card serves it)"),  # fmt: skip
    _mxfp4_experts("gpt-oss-120b", "down", 2880, 2880, 128, 4,
                   f"{_GPT_OSS}: down_proj, intermediate 2880 -> hidden 2880, the whole layer on one 80 GB GPU"),
    _mxfp4_experts("gpt-oss-120b", "gate_up", 1440, 2880, 128, 4,
                   f"{_GPT_OSS}: gate_up_proj on one of 4 tensor-parallel ranks: 5760 / 4 = 1440 outputs", tp=4),
    _mxfp4_experts("gpt-oss-120b", "down", 2880, 1440, 128, 4,
                   f"{_GPT_OSS}: down_proj on one of 2 tensor-parallel ranks: intermediate 2880 / 2 = 1440 -> hidden "
                   "2880 (a partial sum; the bias is added once, here as on rank 0)", tp=2),  # fmt: skip
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


def _norm(e: Entry) -> tuple[dict, str]:
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
    return defn, source


def _fused_add_norm(e: Entry) -> tuple[dict, str]:
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
    source = f'''"""{e.model.label} residual add + RMSNorm: the sum rounded to bf16 (the residual), then normalized in fp32."""

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
    return defn, source


def _norm_backward(e: Entry) -> tuple[dict, str]:
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
    source = f'''"""Backward of the {e.model.label} RMSNorm y = x * rsqrt(mean(x^2) + eps) * w, in fp32 (it equals autograd)."""

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
    return defn, source


def _gated(e: Entry) -> tuple[dict, str]:
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
    return defn, source


def _gated_backward(e: Entry) -> tuple[dict, str]:
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
    return defn, source


def _linear(e: Entry) -> tuple[dict, str]:
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
    return defn, source


_FP8_SOURCE = """\"\"\"{label} block-scaled FP8 GEMM: dequantize a (1x128 scales) and b (128x128 scales) in fp32, matmul, bf16 out.\"\"\"

import torch

N, K, BLOCK = {n}, {k}, 128
FP8_MAX = 448.0  # largest finite float8_e4m3fn


def _expand(scale, rows, cols, block_rows, block_cols):
    \"\"\"Broadcast a per-tile scale over its tile: [r, c] -> [rows, cols].\"\"\"
    return scale.repeat_interleave(block_rows, dim=0)[:rows].repeat_interleave(block_cols, dim=1)[:, :cols]


@torch.no_grad()
def run(a, a_scale, b, b_scale):
    m, k = a.shape
    n = b.shape[0]
    a_dequant = a.float() * _expand(a_scale.float(), m, k, 1, BLOCK)
    b_dequant = b.float() * _expand(b_scale.float(), n, k, BLOCK, BLOCK)
    return (a_dequant @ b_dequant.t()).to(torch.bfloat16)


def quantize_blocks(x, block_rows, block_cols):
    \"\"\"e4m3 values and fp32 scales (amax / 448) per [block_rows, block_cols] tile; shapes divide evenly here.\"\"\"
    rows, cols = x.shape
    tiles = x.reshape(rows // block_rows, block_rows, cols // block_cols, block_cols)
    scale = tiles.abs().amax(dim=(1, 3)).clamp_min(1e-4) / FP8_MAX
    values = (tiles / scale[:, None, :, None]).reshape(rows, cols).to(torch.float8_e4m3fn)
    return values, scale.float()


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    activations = torch.randn(num_tokens, K, device=device)
    weights = torch.randn(N, K, device=device) / K**0.5
    a, a_scale = quantize_blocks(activations, 1, BLOCK)
    b, b_scale = quantize_blocks(weights, BLOCK, BLOCK)
    return {{"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale}}
"""


def _fp8_gemm(e: Entry) -> tuple[dict, str]:
    n, k = e.constants["n"], e.constants["k"]
    defn = {
        "op_type": "gemm_fp8_block_scale",
        "description": f"FP8 linear layer of {e.model.label}: {e.layer}. DeepSeek-V3's fine-grained FP8 recipe: e4m3 "
        "activations with one fp32 scale per token per 128 channels (1x128 tiles), e4m3 weights with one fp32 scale "
        "per 128x128 block (weight_scale_inv in the checkpoint), bf16 output; c = (a * a_scale) @ (b * b_scale).T "
        f"with scales broadcast over their tiles, N = {n}, K = {k}. {e.shapes}. make_inputs quantizes Gaussian data "
        "with real per-tile scales (amax / 448). The sol field states the counts: the GEMM at the FP8 tensor-core "
        "rate, the bytes at their stored widths.",
        "axes": {"num_tokens": {"type": "var"}, "n": {"type": "const", "value": n}, "k": {"type": "const", "value": k},
                 "block_size": {"type": "const", "value": 128},
                 "n_blocks": {"type": "expr", "expression": "cdiv(n, block_size)"},
                 "k_blocks": {"type": "expr", "expression": "cdiv(k, block_size)"}},
        "inputs": {"a": _tensor(["num_tokens", "k"], "float8_e4m3fn"), "a_scale": _tensor(["num_tokens", "k_blocks"], "float32"),
                   "b": _tensor(["n", "k"], "float8_e4m3fn"), "b_scale": _tensor(["n_blocks", "k_blocks"], "float32")},
        "outputs": {"c": _tensor(["num_tokens", "n"])},
        "custom_inputs_entrypoint": "make_inputs",
        "sol": {"flops": {"float8_e4m3fn": "2 * num_tokens * n * k"},
                "bytes": "num_tokens * k + n * k + 4 * num_tokens * k_blocks + 4 * n_blocks * k_blocks + 2 * num_tokens * n"},
    }  # fmt: skip
    return defn, _FP8_SOURCE.format(label=e.model.label, n=n, k=k)


_NVFP4_SOURCE = """\"\"\"{label} NVFP4 GEMM: unpack e2m1, apply each 16-value e4m3 scale and alpha, matmul in fp32.\"\"\"

import torch

N, K = {n}, {k}
BLOCK = 16
E2M1_MAX, E4M3_MAX = 6.0, 448.0
# The 16 e2m1 codes: bit 3 is the sign, bits 0-2 index the magnitude.
E2M1_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def unpack_fp4(packed):
    \"\"\"[..., k // 2] float4_e2m1fn_x2 (or uint8) -> [..., k] float32; element 2i is the low nibble of byte i.\"\"\"
    table = torch.tensor(E2M1_VALUES, device=packed.device)
    pairs = torch.stack([table.repeat(16), table.repeat_interleave(16)], dim=-1)  # byte -> (low, high) values
    return pairs[packed.view(torch.uint8).long()].flatten(start_dim=-2)


def dequantize(packed, scale):
    return unpack_fp4(packed) * scale.float().repeat_interleave(BLOCK, dim=-1)


def quantize_nvfp4(x, global_scale=None):
    \"\"\"ModelOpt's NVFP4 recipe: (packed e2m1, e4m3 block scales, fp32 global scale) with x ~ e2m1 * scale / global.\"\"\"
    rows, cols = x.shape
    if global_scale is None:
        global_scale = E4M3_MAX * E2M1_MAX / x.abs().amax().clamp_min(1e-12)
    blocks = x.reshape(rows, cols // BLOCK, BLOCK)
    scale = (blocks.abs().amax(dim=-1) / E2M1_MAX * global_scale).to(torch.float8_e4m3fn)
    step = scale.float() / global_scale  # what one e2m1 unit is worth in each block
    inverse = torch.where(step > 0, 1 / step, torch.zeros_like(step))
    scaled = (blocks * inverse[..., None]).reshape(rows, cols)
    magnitudes = torch.tensor(E2M1_VALUES[:8], device=x.device)
    midpoints = (magnitudes[1:] + magnitudes[:-1]) / 2
    codes = torch.bucketize(scaled.abs(), midpoints, out_int32=True).to(torch.uint8)  # nearest magnitude, 0..7
    codes |= (scaled < 0).to(torch.uint8) << 3
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).view(torch.float4_e2m1fn_x2)
    return packed, scale, torch.as_tensor(global_scale, dtype=torch.float32, device=x.device)


@torch.no_grad()
def run(a, a_scale, b, b_scale, alpha):
    return (dequantize(a, a_scale) @ dequantize(b, b_scale).t() * alpha.float()).to(torch.bfloat16)


def make_inputs(axes_and_scalars, device):
    num_tokens = axes_and_scalars["num_tokens"]
    a, a_scale, a_global = quantize_nvfp4(torch.randn(num_tokens, K, device=device))
    b, b_scale, b_global = quantize_nvfp4(torch.randn(N, K, device=device) / K**0.5)
    alpha = (1.0 / (a_global * b_global)).reshape(())
    return {{"a": a, "a_scale": a_scale, "b": b, "b_scale": b_scale, "alpha": alpha}}
"""


def _nvfp4_gemm(e: Entry) -> tuple[dict, str]:
    n, k = e.constants["n"], e.constants["k"]
    defn = {
        "op_type": "gemm_nvfp4",
        "description": f"NVFP4 linear layer of {e.model.label} quantized with NVIDIA ModelOpt ({e.hf_id}, the checkpoint's "
        "name since NVIDIA renamed its -FP4 checkpoints -NVFP4; NVIDIA/Model-Optimizer "
        f"tests/examples/hf_ptq/test_deploy.py): {e.layer}; "
        "c = alpha * (a * a_scale) @ (b * b_scale).T in bf16, each run of 16 values along K with its e4m3 block "
        "scale. make_inputs quantizes Gaussian data the way ModelOpt does (global scale 448 * 6 / amax, e4m3 block "
        "scale block_amax / 6, values rounded to the nearest e2m1; element 2i in the low nibble, shapes count fp4 "
        f"values, scales plain row-major [rows, k / 16]); alpha = 1 / (global_a * global_b). {e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "n": {"type": "const", "value": n}, "k": {"type": "const", "value": k},
                 "block_size": {"type": "const", "value": 16},
                 "k_blocks": {"type": "expr", "expression": "k // block_size"}},
        "inputs": {"a": _tensor(["num_tokens", "k"], "float4_e2m1"), "a_scale": _tensor(["num_tokens", "k_blocks"], "float8_e4m3fn"),
                   "b": _tensor(["n", "k"], "float4_e2m1"), "b_scale": _tensor(["n", "k_blocks"], "float8_e4m3fn"),
                   "alpha": _tensor([], "float32")},
        "outputs": {"c": _tensor(["num_tokens", "n"])},
        "custom_inputs_entrypoint": "make_inputs",
    }  # fmt: skip
    return defn, _NVFP4_SOURCE.format(label=e.model.label, n=n, k=k)


_SAMPLING_SOURCE = """\"\"\"{label}: top-k then top-p of softmax(logits / temperature), renormalized; ties at a cut-off kept.\"\"\"

import torch

VOCAB = {vocab}


@torch.no_grad()
def run(logits, temperature, top_k, top_p):
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    ordered = probs.sort(dim=-1, descending=True).values
    probs = torch.where(probs >= ordered[:, top_k - 1 : top_k], probs, 0.0)
    probs = probs / probs.sum(dim=-1, keepdim=True)
    ordered = probs.sort(dim=-1, descending=True).values
    mass_before = ordered.cumsum(dim=-1) - ordered  # mass of the tokens ranked above each one
    threshold = torch.where(mass_before < top_p, ordered, torch.inf).amin(dim=-1, keepdim=True)
    probs = torch.where(probs >= threshold, probs, 0.0)
    return probs / probs.sum(dim=-1, keepdim=True)


def make_inputs(axes_and_scalars, device):
    batch_size = axes_and_scalars["batch_size"]
    logits = (2.5 * torch.randn(batch_size, VOCAB, device=device)).to(torch.bfloat16)
    return {{"logits": logits, "temperature": {temperature!r}, "top_k": {top_k}, "top_p": {top_p!r}}}
"""


def _top_k_top_p(e: Entry) -> tuple[dict, str]:
    c = e.constants
    defn = {
        "op_type": "top_k_top_p_renorm",
        "description": f"The deterministic part of top-k/top-p sampling over {e.model.label}'s vocabulary (vocab_size "
        f"{c['vocab']}), as FlashInfer's top_k_top_p_renorm_probs defines it, with {e.layer}: probs = "
        "softmax(logits / temperature) in fp32; keep the tokens whose probability is at least the top_k-th largest "
        "(ties kept together), renormalize; then keep token i when the mass of the kept tokens strictly more "
        "probable than i is below top_p, renormalize again. Drawing the token from the result is left to the "
        f"sampler. make_inputs draws bf16 logits of std 2.5, peaked like a language model's. {e.shapes}.",
        "axes": {"batch_size": {"type": "var"}, "vocab_size": {"type": "const", "value": c["vocab"]}},
        "inputs": {"logits": _tensor(["batch_size", "vocab_size"]), "temperature": _tensor(None, "float32"),
                   "top_k": _tensor(None, "int32"), "top_p": _tensor(None, "float32")},
        "outputs": {"probs": _tensor(["batch_size", "vocab_size"], "float32")},
        "custom_inputs_entrypoint": "make_inputs",
    }  # fmt: skip
    source = _SAMPLING_SOURCE.format(label=e.model.label, **c)
    return defn, source


def _layer_norm(e: Entry) -> tuple[dict, str]:
    h, eps = e.constants["hidden_size"], e.constants["eps"]
    row = ["num_tokens", "hidden_size"]
    defn = {
        "op_type": "layernorm",
        "description": f"LayerNorm of {e.model.label} ({e.layer}): y = (x - mean) / sqrt(var + eps) * weight + bias "
        f"over the last dimension, in fp32, rounded once to bf16. Width {h} and eps {eps:g} come from the model "
        f"config. {e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "hidden_size": {"type": "const", "value": h}},
        "inputs": {"x": _tensor(row), "weight": _tensor(["hidden_size"]), "bias": _tensor(["hidden_size"])},
        "outputs": {"output": _tensor(row)},
    }
    source = f'''"""{e.model.label} LayerNorm (width {h}, eps {eps:g}) with weight and bias, in fp32, rounded once to bf16."""

import torch
import torch.nn.functional as F

EPS = {eps!r}


@torch.no_grad()
def run(x, weight, bias):
    out = F.layer_norm(x.float(), (x.shape[-1],), weight.float(), bias.float(), eps=EPS)
    return out.to(x.dtype)
'''
    return defn, source


def _layer_norm_backward(e: Entry) -> tuple[dict, str]:
    h, eps = e.constants["hidden_size"], e.constants["eps"]
    row = ["num_tokens", "hidden_size"]
    defn = {
        "op_type": "layernorm_backward",
        "description": f"Backward pass of the {e.model.label} LayerNorm ({e.layer}; width {h}, eps {eps:g}) in bf16 "
        "training: from grad_output, the saved input and the weight, compute grad_input, grad_weight and grad_bias "
        "(summed over tokens, in the parameters' dtype as PyTorch autograd returns them), in fp32; mean and 1/std "
        f"are recomputed, not saved. {e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "hidden_size": {"type": "const", "value": h}},
        "inputs": {"grad_output": _tensor(row), "x": _tensor(row), "weight": _tensor(["hidden_size"])},
        "outputs": {"grad_input": _tensor(row), "grad_weight": _tensor(["hidden_size"]),
                    "grad_bias": _tensor(["hidden_size"])},
    }  # fmt: skip
    source = f'''"""Backward of the {e.model.label} LayerNorm y = x_hat * w + b, x_hat = (x - mean) * rstd, in fp32 (it equals autograd)."""

import torch

EPS = {eps!r}


@torch.no_grad()
def run(grad_output, x, weight):
    xf, dy = x.float(), grad_output.float()
    mean = xf.mean(dim=-1, keepdim=True)
    rstd = torch.rsqrt(xf.var(dim=-1, unbiased=False, keepdim=True) + EPS)
    x_hat = (xf - mean) * rstd
    grad_weight = (dy * x_hat).sum(dim=0)
    grad_bias = dy.sum(dim=0)
    dx_hat = dy * weight.float()
    mean_dx_hat, mean_dx_hat_x_hat = dx_hat.mean(dim=-1, keepdim=True), (dx_hat * x_hat).mean(dim=-1, keepdim=True)
    grad_input = rstd * (dx_hat - mean_dx_hat - x_hat * mean_dx_hat_x_hat)
    return grad_input.to(x.dtype), grad_weight.to(weight.dtype), grad_bias.to(weight.dtype)
'''
    return defn, source


def _linear_bwd(e: Entry) -> tuple[dict, str]:
    n, k = e.constants["n"], e.constants["k"]
    defn = {
        "op_type": "linear_backward",
        "description": f"Backward pass of a bf16 linear layer of {e.model.label} ({e.layer}; y = x @ weight.T, "
        f"N = {n}, K = {k}, no bias) in training: grad_input = grad_output @ weight and grad_weight = "
        "grad_output.T @ x, two GEMMs of the forward's size, accumulated in fp32 and rounded once to bf16. "
        f"{e.shapes}.",
        "axes": {"num_tokens": {"type": "var"}, "n": {"type": "const", "value": n}, "k": {"type": "const", "value": k}},
        "inputs": {"grad_output": _tensor(["num_tokens", "n"]), "x": _tensor(["num_tokens", "k"]),
                   "weight": _tensor(["n", "k"])},
        "outputs": {"grad_input": _tensor(["num_tokens", "k"]), "grad_weight": _tensor(["n", "k"])},
        "sol": {"flops": {"bfloat16": "4 * num_tokens * n * k"},
                "bytes": "2 * num_tokens * n + 4 * num_tokens * k + 4 * n * k"},
    }  # fmt: skip
    source = f'''"""Backward of {e.model.label}'s {e.name.split("_linear_backward")[0].removeprefix(e.model.prefix + "_")}: grad_input = dy @ W, grad_weight = dy.T @ x, in fp32 (it equals autograd)."""

import torch


@torch.no_grad()
def run(grad_output, x, weight):
    dy = grad_output.float()
    grad_input = dy @ weight.float()
    grad_weight = dy.t() @ x.float()
    return grad_input.to(x.dtype), grad_weight.to(weight.dtype)
'''
    return defn, source


_MXFP4_SOURCE = """\"\"\"{label} MXFP4 expert GEMM, weight-only: bf16 rows times e2m1 weights with an e8m0 (power of two) scale per 32 values.

Rows sorted by expert; rows expert_offsets[e]:expert_offsets[e+1] multiply expert e's dequantized weight, plus its
bias, accumulated in fp32 and rounded once to bf16 (what Hopper runs: the weights dequantized, bf16 tensor cores).
\"\"\"

import torch

N, K = {n}, {k}  # {proj}_proj{shard}{slice}
BLOCK = 32
# The 16 e2m1 codes: bit 3 is the sign, bits 0-2 index the magnitude.
E2M1_VALUES = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0]


def unpack_fp4(packed):
    \"\"\"[..., k // 2] float4_e2m1fn_x2 (or uint8) -> [..., k] float32; element 2i is the low nibble of byte i.\"\"\"
    table = torch.tensor(E2M1_VALUES, device=packed.device)
    pairs = torch.stack([table.repeat(16), table.repeat_interleave(16)], dim=-1)  # byte -> (low, high) values
    return pairs[packed.view(torch.uint8).long()].flatten(start_dim=-2)


def dequantize(packed, scale):
    \"\"\"e2m1 values times 2^(e - 127) of their block's e8m0 scale.\"\"\"
    return unpack_fp4(packed) * scale.float().repeat_interleave(BLOCK, dim=-1)


def quantize_mxfp4(x):
    \"\"\"OCP MX: per 32 values a shared scale 2^(floor(log2 amax) - 2) (e2m1's largest exponent), values rounded to the
    nearest e2m1 and saturated at 6; returns (packed e2m1 [rows, cols // 2], e8m0 scales [rows, cols // 32]).\"\"\"
    rows, cols = x.shape
    blocks = x.reshape(rows, cols // BLOCK, BLOCK)
    exponent = torch.floor(torch.log2(blocks.abs().amax(dim=-1).clamp_min(2.0**-100))) - 2
    scaled = (blocks / torch.exp2(exponent)[..., None]).reshape(rows, cols)
    magnitudes = torch.tensor(E2M1_VALUES[:8], device=x.device)
    midpoints = (magnitudes[1:] + magnitudes[:-1]) / 2
    codes = torch.bucketize(scaled.abs(), midpoints, out_int32=True).to(torch.uint8)  # nearest magnitude, 0..7
    codes |= (scaled < 0).to(torch.uint8) << 3
    packed = (codes[:, 0::2] | (codes[:, 1::2] << 4)).view(torch.float4_e2m1fn_x2)
    return packed, (exponent + 127).to(torch.uint8).view(torch.float8_e8m0fnu)


@torch.no_grad()
def run(a, b, b_scale, bias, expert_offsets):
    bounds = expert_offsets.tolist()
    parts = []
    for e in range(b.shape[0]):
        rows = a[bounds[e] : bounds[e + 1]].float()
        parts.append(rows @ dequantize(b[e], b_scale[e]).t() + bias[e].float())
    return torch.cat(parts).to(torch.bfloat16)


def expert_offsets_for(num_rows, num_experts, device):
    \"\"\"Rows per expert as a router spreads them, every expert it can reach used: min(rows, experts) experts get at
    least one row (the bound counts their weights), the remaining rows land at random.\"\"\"
    used = min(num_rows, num_experts)
    counts = torch.zeros(num_experts, dtype=torch.long)
    counts[torch.randperm(num_experts)[:used]] = 1
    counts += torch.bincount(torch.randint(0, num_experts, (num_rows - used,)), minlength=num_experts)
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(torch.int32).to(device)


def make_inputs(axes_and_scalars, device):
    num_rows, num_experts = axes_and_scalars["num_rows"], axes_and_scalars["num_experts"]
    n = axes_and_scalars.get("n", N)
    weights = [quantize_mxfp4(torch.randn(n, K, device=device) / K**0.5) for _ in range(num_experts)]
    return {{
        "a": torch.randn(num_rows, K, dtype=torch.bfloat16, device=device),
        "b": torch.stack([w for w, _ in weights]),
        "b_scale": torch.stack([s for _, s in weights]),
        "bias": (0.1 * torch.randn(num_experts, n, device=device)).to(torch.bfloat16),
        "expert_offsets": expert_offsets_for(num_rows, num_experts, device),
    }}
"""


def _mxfp4_grouped(e: Entry) -> tuple[dict, str]:
    c = e.constants
    n, k = c["n"], c["k"]
    shard = f" (one of {c['tp']} tensor-parallel ranks)" if c["tp"] > 1 else ""
    cpu_rows = c["cpu_rows"]
    slice_note = (f" n is a var axis: the real layer has n = {n} (every GPU workload); the two CI workloads compute "
                  f"a {cpu_rows}-row slice of one expert's weight, within the harness's CPU size.") if cpu_rows else ""
    defn = {
        "op_type": "grouped_gemm_mxfp4",
        "description": f"Routed-expert {c['proj']} projection of {e.model.label} in its native MXFP4 (the released "
        "checkpoint's format), weight-only as Hopper runs it: bf16 activations, e2m1 weights two per byte (element 2i "
        "low nibble, the checkpoint's blocks) with one e8m0 scale 2^(e - 127) per 32 values along K, a bf16 bias per "
        f"expert; {e.layer}; {c['experts']} experts, {c['top_k']} per token (config.json). a holds the routed rows "
        "sorted by expert; rows expert_offsets[e]:expert_offsets[e+1] compute a @ b[e].T + bias[e], accumulated in "
        "fp32, rounded once to bf16. make_inputs quantizes Gaussian weights the OCP MX way (scale 2^(floor(log2 "
        f"amax) - 2), nearest e2m1, saturating). {e.shapes}. The sol field keys the FLOPs by the lowest-precision "
        "operand, as the library counts them (a lower bound: a weight-only kernel runs them on bf16 tensor cores), "
        "and counts the weights of the experts that get rows: min(num_rows, num_experts), and make_inputs routes so "
        f"that exactly that many are used.{slice_note}",
        "axes": {"num_rows": {"type": "var"}, "num_experts": {"type": "var"},
                 "n": {"type": "var"} if cpu_rows else {"type": "const", "value": n}, "k": {"type": "const", "value": k},
                 "block_size": {"type": "const", "value": 32},
                 "k_blocks": {"type": "expr", "expression": "k // block_size"},
                 "num_offsets": {"type": "expr", "expression": "num_experts + 1"}},
        "inputs": {"a": _tensor(["num_rows", "k"]), "b": _tensor(["num_experts", "n", "k"], "float4_e2m1"),
                   "b_scale": _tensor(["num_experts", "n", "k_blocks"], "float8_e8m0fnu"),
                   "bias": _tensor(["num_experts", "n"]), "expert_offsets": _tensor(["num_offsets"], "int32")},
        "outputs": {"c": _tensor(["num_rows", "n"])},
        "custom_inputs_entrypoint": "make_inputs",
        "sol": {"note": "gather: only the weights of the min(num_rows, num_experts) experts that get rows are read; "
                "FLOPs over the routed rows",
                "flops": {"float4_e2m1": "2 * num_rows * n * k"},
                "bytes": "2 * num_rows * k + min(num_rows, num_experts) * (n * k / 2 + n * k_blocks + 2 * n) + "
                "4 * num_offsets + 2 * num_rows * n"},
    }  # fmt: skip
    slice_comment = f"; n is a var axis, {cpu_rows} rows in CI" if cpu_rows else ""
    return defn, _MXFP4_SOURCE.format(label=e.model.label, n=n, k=k, proj=c["proj"], shard=shard, slice=slice_comment)


RENDER = {
    "rmsnorm": _norm,
    "fused_add_rmsnorm": _fused_add_norm,
    "rmsnorm_backward": _norm_backward,
    "silu_and_mul": _gated,
    "gelu_tanh_and_mul": _gated,
    "silu_and_mul_backward": _gated_backward,
    "gemm": _linear,
    "gemm_fp8_block_scale": _fp8_gemm,
    "gemm_nvfp4": _nvfp4_gemm,
    "top_k_top_p_renorm": _top_k_top_p,
    "layernorm": _layer_norm,
    "layernorm_backward": _layer_norm_backward,
    "linear_backward": _linear_bwd,
    "grouped_gemm_mxfp4": _mxfp4_grouped,
}


def _workload_bytes(defn: dict, axes: dict) -> float:
    """Every input and output at its stored width, as the library's own check counts it."""
    from pytest_solbench.data.dtypes import DTYPES
    from pytest_solbench.data.trace import eval_expression

    values = {a: spec["value"] for a, spec in defn["axes"].items() if spec["type"] == "const"} | axes
    for a, spec in defn["axes"].items():
        if spec["type"] == "expr":
            values[a] = eval_expression(spec["expression"], values)
    total = 0.0
    for spec in [*defn["inputs"].values(), *defn["outputs"].values()]:
        count = 1
        for dim in spec["shape"] or ():
            count *= values[dim]
        total += count * DTYPES[spec["dtype"]].bits_per_element / 8 if spec["shape"] is not None else 0
    return total


def workloads(e: Entry, defn: dict) -> list[dict]:
    """One line per token count; inputs random, or all custom where the problem makes its own."""
    var = [a for a, spec in defn["axes"].items() if spec["type"] == "var"]
    rows = var[0]
    tokens = list(e.tokens)
    cpu_rows = e.constants.get("cpu_rows")
    chosen = [dict(axes) for axes in e.meta.get("workload_axes", ())]  # problems with more than one var axis
    for i, t in enumerate(tokens if not chosen else ()):
        axes = {rows: t}
        if cpu_rows:
            axes["n"] = cpu_rows if i < 2 else e.constants["n"]
        chosen.append(axes)
    kind = "custom" if "custom_inputs_entrypoint" in defn else "random"
    if max(_workload_bytes(defn, a) for a in chosen) < GPU_MIN_BYTES:
        raise ValueError(f"{e.name}: no workload moves {GPU_MIN_BYTES} bytes; add a larger token count")
    tolerance = {"tolerance": e.meta["tolerance"]} if "tolerance" in e.meta else {}  # docs/problems.md says why
    return [
        {"uuid": uuid_for(e.name, axes), "axes": axes, "inputs": {name: {"type": kind} for name in defn["inputs"]},
         **tolerance}
        for axes in chosen
    ]


def render(e: Entry) -> dict[str, str]:
    """The problem's three files, by file name."""
    body, source = RENDER[e.family](e)
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
    defn.update({key: body[key] for key in ("custom_inputs_entrypoint", "sol") if key in body})
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
        if isinstance(value, dict) and key in ("axes", "inputs", "outputs", "sol"):
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
