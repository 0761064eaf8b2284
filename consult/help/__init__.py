"""Help: a short guide per role (member, facilitator, translator, delegate,
administrator), written natively in each interface language as its own
template (``templates/help/<lang>/<guide>.html``), so that long texts read as
people write them rather than as a catalog of sentences."""
