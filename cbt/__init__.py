"""cbt: computer-based testing for occupational skill-level certification (职业技能等级认定机考)."""

__version__ = "0.1.0"
