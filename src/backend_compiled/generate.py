#!/usr/bin/env python3
"""Writes `forward.rs`: every operation of Burn's backend traits, forwarded to another backend.

Reads the trait definitions of burn-backend 0.21 from cargo's registry and emits the macro
`forward_backend!(Name, Inner)`, which implements `Backend` and each operation trait for the
unit type `Name` by calling `Inner`'s. Rerun after a Burn update:

    python3 src/backend_compiled/generate.py && cargo fmt --all

The operations named in `shared_ops.txt` (those the library's own code reaches) are plain
methods, compiled once in the library and linked by programs. Every other one is marked
`#[inline]`: Rust compiles an inline function only in a crate that calls it, so the
library does not compile, for each prebuilt backend, the hundreds of operations it never
uses (quantised arithmetic, 3-D and transposed convolutions...). To rebuild the list, run
`python3 src/backend_compiled/generate.py --all-inline`, then
`cargo llvm-lines --release --lib --features wgpu,collective > lines.txt` (from
`cargo install cargo-llvm-lines`) and `python3 src/backend_compiled/generate.py --reached
lines.txt`, which writes the methods instantiated in the library into `shared_ops.txt` and
regenerates `forward.rs`.
"""
import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIT_FILES = {
    "FloatTensorOps": "src/backend/ops/tensor.rs",
    "IntTensorOps": "src/backend/ops/int_tensor.rs",
    "BoolTensorOps": "src/backend/ops/bool_tensor.rs",
    "QTensorOps": "src/backend/ops/qtensor.rs",
    "ModuleOps": "src/backend/ops/modules/base.rs",
    "ActivationOps": "src/backend/ops/activation.rs",
    "TransactionOps": "src/backend/ops/transaction.rs",
    "Backend": "src/backend/base.rs",
}
# Every type name in the signatures, with the path the macro names it by.
PATHS = {
    "FloatTensor": "::burn_backend::tensor::FloatTensor",
    "IntTensor": "::burn_backend::tensor::IntTensor",
    "BoolTensor": "::burn_backend::tensor::BoolTensor",
    "QuantizedTensor": "::burn_backend::tensor::QuantizedTensor",
    "Device": "::burn_backend::tensor::Device",
    "IndexingUpdateOp": "::burn_backend::tensor::IndexingUpdateOp",
    "Scalar": "::burn_backend::Scalar",
    "TensorPrimitive": "::burn_backend::TensorPrimitive",
    "TensorData": "::burn_backend::TensorData",
    "Distribution": "::burn_backend::Distribution",
    "ExecutionError": "::burn_backend::ExecutionError",
    "DTypeUsageSet": "::burn_backend::DTypeUsageSet",
    "DType": "::burn_backend::DType",
    "BoolDType": "::burn_backend::BoolDType",
    "IntDType": "::burn_backend::IntDType",
    "FloatDType": "::burn_backend::FloatDType",
    "Shape": "::burn_backend::Shape",
    "Slice": "::burn_backend::Slice",
    "QuantScheme": "::burn_backend::quantization::QuantScheme",
    "QuantizationParametersPrimitive": "::burn_backend::quantization::QuantizationParametersPrimitive",
    "Range": "::core::ops::Range",
    "Future": "::core::future::Future",
}
for name in [
    "ConvOptions", "ConvTransposeOptions", "DeformConvOptions", "DeformConv2dBackward",
    "InterpolateOptions", "UnfoldOptions", "GridSampleOptions", "AttentionModuleOptions",
    "MaxPool1dBackward", "MaxPool1dWithIndices", "MaxPool2dBackward", "MaxPool2dWithIndices",
    "TransactionPrimitive", "TransactionPrimitiveData",
] + [t for t in TRAIT_FILES if t != "Backend"]:
    PATHS[name] = "::burn_backend::ops::" + name
PATHS["Backend"] = "::burn_backend::Backend"
# Types generic over the backend that are not one of its primitives: moved between the two
# backends' versions with `Recast`.
RECAST = [
    "TensorPrimitive", "QuantizationParametersPrimitive", "TransactionPrimitive",
    "DeformConv2dBackward", "MaxPool1dBackward", "MaxPool1dWithIndices",
    "MaxPool2dBackward", "MaxPool2dWithIndices",
]
KNOWN = set(PATHS) | {"B", "Self", "Option", "Send", "Result", "Vec", "String", "Iterator",
                      "Item", "Fn", "Output", "Input", "Func", "Iter"}


def registry_source():
    found = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/burn-backend-0.21.0"))
    if not found:
        sys.exit("burn-backend 0.21.0 is not in cargo's registry: run `cargo fetch` first")
    return found[0]


def bracket_depth_change(s, k):
    """+1 at an opening bracket, -1 at a closing one (the `>` of `->` is not one), else 0."""
    ch = s[k]
    if ch in "(<[":
        return 1
    if ch in ")]" or (ch == ">" and s[k - 1] != "-"):
        return -1
    return 0


def closing(s, i):
    """Index of the bracket that closes the one opened at `i`."""
    depth = 0
    for k in range(i, len(s)):
        depth += bracket_depth_change(s, k)
        if depth == 0:
            return k
    raise ValueError(f"unbalanced brackets in `{s}`")


def skip_block(text, i):
    """Index after the block whose `{` is at `i`."""
    depth = 0
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            return i


def signature_end(text, i):
    """Index of the `;` or `{` that ends the signature starting at `i`."""
    depth = 0
    while depth != 0 or text[i] not in ";{":
        depth += bracket_depth_change(text, i)
        i += 1
    return i


def trait_methods(root, trait):
    """The signatures of a trait's methods, in source order."""
    text = re.sub(r"//[^\n]*", "", open(os.path.join(root, TRAIT_FILES[trait])).read())
    i = re.search(r"pub trait %s\b[^{]*\{" % trait, text).end()
    signatures = []
    while text[i] != "}":
        if text.startswith("#[", i):
            i = text.index("]", i) + 1
        elif re.match(r"fn\s", text[i : i + 3]):
            end = signature_end(text, i)
            signatures.append(" ".join(text[i:end].split()))
            i = skip_block(text, end) if text[end] == "{" else end + 1
        elif text[i] == "{":
            i = skip_block(text, i)
        else:
            i += 1
    return signatures


def split_top(s, sep=","):
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(s):
        depth += bracket_depth_change(s, k)
        if ch == sep and depth == 0:
            parts.append(s[start:k])
            start = k + 1
    parts.append(s[start:])
    return [p.strip() for p in parts if p.strip()]


def parse(signature):
    """(name, generics, params, rest) with params as (name, type) pairs."""
    name = re.match(r"fn (\w+)", signature).group(1)
    k = len("fn " + name)
    generics = ""
    if signature[k] == "<":
        generics = signature[k : closing(signature, k) + 1]
        k += len(generics)
    open_paren = signature.index("(", k)
    close_paren = closing(signature, open_paren)
    params = [p.split(":", 1) for p in split_top(signature[open_paren + 1 : close_paren])]
    return name, generics, [(n.strip(), t.strip()) for n, t in params], signature[close_paren + 1 :].strip()


def qualify(text):
    for word in set(re.findall(r"\b[A-Z]\w*", text)):
        if word not in KNOWN:
            sys.exit(f"unknown type `{word}` in `{text}`: add it to PATHS")
    text = re.sub(r"\bB\b", "Self", text).replace("crate::", "::burn_backend::")
    return re.sub(r"(?<!::)\b(%s)\b" % "|".join(sorted(PATHS, key=len, reverse=True)),
                  lambda m: PATHS[m.group(1)], text)


def is_recast(ty):
    return any(re.match(r"%s\s*<" % r, ty) for r in RECAST)


def forwarding(trait, signature, shared):
    name, generics, params, rest = parse(signature)
    callee = "<$inner as %s>" % (
        PATHS[trait] if trait == "Backend" else f"{PATHS[trait]}<$inner>")
    args = ", ".join(f"$crate::backend_compiled::recast({n})" if is_recast(t) else n
                     for n, t in params)
    call = f"{callee}::{name}({args})"
    if "impl Future" in rest or "impl ::core::future::Future" in rest:
        call = f"$crate::backend_compiled::boxed_future({call})"
    elif is_recast(rest.split("->", 1)[-1].strip()):
        call = f"$crate::backend_compiled::recast({call})"
    param_list = ", ".join(f"{n}: {qualify(t)}" for n, t in params)
    inline = "" if name in shared else "#[inline]\n"
    return f"{inline}fn {name}{qualify(generics)}({param_list}) {qualify(rest)} {{\n    {call}\n}}\n"


def shared_ops(all_inline):
    """The names in `shared_ops.txt`; none with `--all-inline`."""
    if all_inline:
        return set()
    with open(os.path.join(HERE, "shared_ops.txt")) as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def write_reached(lines_file):
    """Writes into `shared_ops.txt` the forwarding methods that `cargo llvm-lines` found
    instantiated in the library (built with `--all-inline`)."""
    text = open(lines_file).read()
    names = sorted(set(re.findall(
        r"<infonce::backend_compiled::prebuilt::Prebuilt\w+ as [^ ]*>::(\w+)", text)))
    if not names:
        sys.exit(f"{lines_file}: no forwarding method found; was the library built with them?")
    path = os.path.join(HERE, "shared_ops.txt")
    header = [line for line in open(path) if line.startswith("#")]
    with open(path, "w") as f:
        f.writelines(header)
        f.write("\n".join(names) + "\n")
    print(f"shared_ops.txt: {len(names)} methods")


def main():
    if "--reached" in sys.argv:
        write_reached(sys.argv[sys.argv.index("--reached") + 1])
    shared = shared_ops("--all-inline" in sys.argv)
    root = registry_source()
    out = [
        "// Generated by generate.py from burn-backend 0.21.0's trait definitions: do not edit.",
        "",
        "/// Implements `Backend` and every operation trait for `$name` by calling `$inner`'s,",
        "/// which must have the same `BackendTypes`.",
        "macro_rules! forward_backend {",
        "    ($name:ty, $inner:ty) => {",
    ]
    count = 0
    for trait in TRAIT_FILES:
        header = ("impl ::burn_backend::Backend for $name {" if trait == "Backend"
                  else f"impl {PATHS[trait]}<$name> for $name {{")
        out.append(header)
        for signature in trait_methods(root, trait):
            out.append(forwarding(trait, signature, shared))
            count += 1
        out.append("}")
    out += ["    };", "}", "", "pub(super) use forward_backend;", ""]
    with open(os.path.join(HERE, "forward.rs"), "w") as f:
        f.write("\n".join(out))
    print(f"forward.rs: {count} methods")


if __name__ == "__main__":
    main()
