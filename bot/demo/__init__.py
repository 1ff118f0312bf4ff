"""`vendorwatch demo`: the real pipeline, offline, on the recorded feeds of seeds/sample/."""
