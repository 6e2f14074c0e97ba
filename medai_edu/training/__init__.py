"""Training loops (``from medai_edu.training.vagan import train_vagan``)."""
