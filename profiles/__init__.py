"""The profile templates, shipped as sca_conformance.profiles (`sca-conformance list
templates`, `sca-conformance init --from NAME`)."""
