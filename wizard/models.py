"""Troubleshooting trees as imported, every version kept so an old permalink still explains
itself, plus what visitors tell us about the results."""

from django.db import models
from django.db.models import Q


class TreeRevision(models.Model):
    slug = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    data = models.JSONField()
    data_hash = models.CharField(max_length=64)
    source_path = models.CharField(max_length=500)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "number"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "number"], name="unique_tree_revision"),
            models.UniqueConstraint(fields=["slug"], condition=Q(is_current=True), name="one_current_tree"),
        ]

    def __str__(self):
        return f"{self.slug} r{self.number}"


class ResultStat(models.Model):
    """How often a result was reached, and what visitors said about it."""

    tree = models.CharField(max_length=100)
    node = models.CharField(max_length=100)
    reached = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "node"], name="one_stat_per_result")]


class Feedback(models.Model):
    tree = models.CharField(max_length=100)
    node = models.CharField(max_length=100)
    visitor = models.CharField(max_length=64)  # a random id from a signed cookie
    helpful = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "node", "visitor"], name="one_vote_per_visitor")]
