"""Markdown export of a version, in the form the importer reads back:
export → import gives the same tree (same kinds, labels, texts and references)."""

from .models import PlanNode


def _section_level(node: PlanNode, by_key: dict[str, PlanNode]) -> int:
    level, parent = 1, by_key.get(node.parent_key)
    while parent is not None:
        if parent.kind == "section":
            level += 1
        parent = by_key.get(parent.parent_key)
    return level


def _list_indent(node: PlanNode, by_key: dict[str, PlanNode]) -> str:
    """Indentation of a list line: two spaces per list ancestor."""
    depth, parent = 0, by_key.get(node.parent_key)
    while parent is not None and parent.kind in ("item", "bullet"):
        depth += 1
        parent = by_key.get(parent.parent_key)
    return "  " * depth


def to_markdown(title: str, nodes: list[PlanNode]) -> str:
    by_key = {node.key: node for node in nodes}
    out: list[str] = [f"# {title}", ""]
    previous_kind = None
    for node in nodes:
        if node.kind == "section":
            label = f"{node.number}. " if node.number else ""
            out += ["", "#" * (_section_level(node, by_key) + 1) + f" {label}{node.text}", ""]
        elif node.kind == "paragraph":
            out += ["", node.text, ""]
        elif node.kind == "item":
            separator = "." if node.number.isdigit() else ")"
            out.append(f"{_list_indent(node, by_key)}{node.number}{separator} {node.text}")
        elif node.kind == "bullet":
            out.append(f"{_list_indent(node, by_key)}- {node.text}")
        elif node.kind == "footnote":
            if previous_kind != "footnote":
                out.append("")
            marker = (
                f"[^{node.number}]:"
                if node.number.isascii() and node.number.isdigit()
                else node.number
            )
            out.append(f"{marker} {node.text}")
        elif node.kind == "closing":
            out += ["", node.text]
        previous_kind = node.kind
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip() + "\n"
