"""Text for people and machines: a typed report (:mod:`uptimed.model.report`) in each
``--format``, ``uptimed status`` and ``uptimed maintenance`` output, with one table renderer
(:mod:`uptimed.render.table`). Rendering is the only place exact values become floats and
strings."""
