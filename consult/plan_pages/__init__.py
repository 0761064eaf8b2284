"""The plan's pages (blueprint ``plans``): the plan page and its readings (with
amendments, as if the accepted ones were applied, in another language), import,
editing, versions and document downloads. Above the features a plan page shows;
the plan itself, its versions and documents are in ``consult/plans``."""
