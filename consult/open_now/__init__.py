"""What is open now, for the reader: the phase banner of a plan's pages.

This package sits above the features it summarises (consultations, amendments,
comments): it asks their rules, and none of them imports it."""
