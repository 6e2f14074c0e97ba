"""Networks used by the lessons (``from medai_edu.models.classifier import SonoNet``)."""
