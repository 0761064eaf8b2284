"""The platform's privacy notice and terms of use: written by a platform
administrator in each interface language, shown to everyone, and linked from
the footer and the invitation (sign-up) page."""
