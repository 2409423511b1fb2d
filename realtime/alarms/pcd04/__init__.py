"""IHE PCD-04 (Alarm Communication Management): Ownat's alarms reported as ORU^R40 over MLLP to a
hospital's alarm manager or nurse-call system. Front door: `dispatch.send_alarm_reports`, a job of
`ownat worker`; `message` writes the ORU^R40."""
