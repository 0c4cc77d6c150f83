"""Comment insights: the sentiment of a redacted comment and the A-11 drivers it talks about.

``analyze(comment)`` is pure, offline and fast enough to run on every stored comment
(docs/INSIGHTS.md).
"""

from cxstream.insights.analyzer import CommentInsight, analyze, label_of

__all__ = ["CommentInsight", "analyze", "label_of"]
