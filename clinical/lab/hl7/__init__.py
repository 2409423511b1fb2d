"""HL7 v2 for the laboratory: reading ORU^R01 messages (with python-hl7) and writing their ACKs.

Nothing here touches the database: `message.parse_message` and `oru.read_oru` turn text into plain
data or raise an `Hl7Problem`, and `ack.build_ack` turns an outcome into the acknowledgement's text.
"""
