def main(event, context):
    return {"removed": 0}
