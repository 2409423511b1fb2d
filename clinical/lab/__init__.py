"""Laboratory: orders, results, HL7 v2 ORU^R01 intake over HTTP and MLLP."""
