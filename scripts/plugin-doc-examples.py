#!/usr/bin/env python3
"""Extracts the YAML examples of serverless-appsync-plugin v2's documentation
into tests/plugin_docs/, where tests/plugin_forms.rs reads each as an
`appsync.yaml`.

    scripts/plugin-doc-examples.py PLUGIN_CHECKOUT

PLUGIN_CHECKOUT is a clone of github.com/sid88in/serverless-appsync-plugin
at the commit named below. Examples of the v1 migration guide show v1's
shapes and are skipped; an example that is only part of an `appSync:` block
(`waf:`, `resolvers:`, one resolver) is kept as it is, and the test puts it
in a block.
"""
import pathlib
import re
import sys

COMMIT = "6ee7ae1"
SKIP = {"upgrading-from-v1.md", "commands.md", "integration-tests.md", "testing-resolvers.md"}

def main() -> None:
    checkout = pathlib.Path(sys.argv[1])
    out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "plugin_docs"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    count = 0
    for doc in sorted((checkout / "doc").glob("*.md")):
        if doc.name in SKIP:
            continue
        blocks = re.findall(r"```ya?ml\n(.*?)```", doc.read_text(), re.S)
        for index, block in enumerate(blocks):
            name = f"{doc.stem}-{index}.yaml"
            header = f"# From doc/{doc.name} of serverless-appsync-plugin at {COMMIT}, example {index}.\n"
            (out / name).write_text(header + block)
            count += 1
    print(f"{count} examples written to {out}")

if __name__ == "__main__":
    main()
