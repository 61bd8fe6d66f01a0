#!/usr/bin/env python3
"""The PyTorch + peft peer of bench/training: LoRA r=16 on every linear layer
of every block of a randomly initialised Llama with the 135m preset's sizes
(or, with --gguf, the real model transformers loads from that GGUF,
dequantized to float32: bench/perf), float32 base, AdamW, one sequence per
step. Run it with the benchmark-only
virtual environment's python (torch, transformers and peft are never the
project's dependencies). Prints one line per step, "step N seconds S loss L".
"""
import argparse
import os
import time

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

# Every linear layer of a decoder block (the tied lm_head is not adapted, as in qaf).
TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help=".npy of token ids")
    parser.add_argument("--gguf", help="train this model (its real weights) instead")
    shape = ("--vocab", "--hidden", "--layers", "--heads", "--kv-heads", "--intermediate")
    for name in shape:
        parser.add_argument(name, type=int)
    parser.add_argument("--rope-theta", type=float)
    parser.add_argument("--eps", type=float)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.gguf:
        folder, name = os.path.split(os.path.abspath(args.gguf))
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name,
                                                     torch_dtype=torch.float32)
    else:
        missing = [name for name in (*shape, "--rope-theta", "--eps")
                   if getattr(args, name[2:].replace("-", "_")) is None]
        if missing:
            parser.error("without --gguf the model's shape is needed: " + ", ".join(missing))
        config = LlamaConfig(vocab_size=args.vocab, hidden_size=args.hidden,
                             num_hidden_layers=args.layers, num_attention_heads=args.heads,
                             num_key_value_heads=args.kv_heads,
                             intermediate_size=args.intermediate, rope_theta=args.rope_theta,
                             rms_norm_eps=args.eps, tie_word_embeddings=True,
                             max_position_embeddings=max(2048, args.seq_len))
        model = LlamaForCausalLM(config)
    model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=args.alpha,
                                             target_modules=TARGET_MODULES, lora_dropout=0.0,
                                             bias="none"))
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    tokens = np.load(args.data).astype(np.int64)
    span = args.batch * (args.seq_len + 1)
    for step in range(1, args.steps + 1):
        begin = (step - 1) * span % (len(tokens) - span)
        ids = torch.from_numpy(tokens[begin:begin + span]).view(args.batch, args.seq_len + 1)
        start = time.perf_counter()
        # transformers shifts the labels itself: position t predicts ids[t + 1].
        loss = model(input_ids=ids[:, :-1], labels=ids[:, :-1]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - start
        print(f"step {step} seconds {seconds:.6f} loss {loss.item():.6f}", flush=True)


if __name__ == "__main__":
    main()
