"""The consultation's pages (blueprint ``consultations``): its calendar, its
thread and how far its amendments have come. Above the features they show; the
calendar's rules are in ``consult/consultations``."""
