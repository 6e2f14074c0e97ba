"""Data sets used by the lessons (imported lazily: ``from medai_edu.data import toy``)."""
