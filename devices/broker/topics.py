"""Topic names, topic filters with `+` and `#`, and `$share/{group}/{filter}` shared subscriptions."""

from __future__ import annotations

SHARED_PREFIX = "$share/"


def is_valid_topic_name(topic: str) -> bool:
    """A name a client may publish to: not empty and without wildcards."""
    return bool(topic) and "+" not in topic and "#" not in topic


def is_valid_filter(topic_filter: str) -> bool:
    """A filter a client may subscribe to, shared or not (spec 4.7.1)."""
    try:
        _, plain = split_shared(topic_filter)
    except ValueError:
        return False
    if not plain:
        return False
    levels = plain.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def split_shared(topic_filter: str) -> tuple[str | None, str]:
    """The share group (None for an ordinary subscription) and the filter that selects topics."""
    if not topic_filter.startswith(SHARED_PREFIX):
        return None, topic_filter
    group, _, plain = topic_filter[len(SHARED_PREFIX) :].partition("/")
    if not group or "+" in group or "#" in group or not plain:
        raise ValueError(f"malformed shared subscription {topic_filter!r}")
    return group, plain


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether a plain (not shared) filter selects a topic name."""
    # Topics such as $SYS/... are not matched by a filter that starts with a wildcard (spec 4.7.2).
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels) or level not in ("+", topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)
