"""The facilitators' dashboard of a consultation: counting (``counting``), what is
shown (``figures``), the page and its CSV (``views``)."""
