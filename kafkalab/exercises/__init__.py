"""Exercises: the catalog, and the generator that writes exercises/ and solutions/ from the package."""

from kafkalab.exercises.catalog import EXERCISES, Exercise, get_exercise

__all__ = ["EXERCISES", "Exercise", "get_exercise"]
